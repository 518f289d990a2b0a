package wowsim

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The virtual screen: what the WoW window shows, as far as an addon can draw
// it with solid-colour textures. The Desktop reads the bridge strip from it
// (docs/bridge.md, "The strip"), so geometry follows the 3.3.5a client: the
// screen is 768 UI units tall whatever the resolution, a frame's units are
// scaled by its effective scale, and a texture covers the pixels whose centres
// fall inside it.

// uiHeight is the screen height in UI units at scale 1.
const uiHeight = 768

// DefaultResolution is Config.Resolution's default (the client's gxResolution).
const DefaultResolution = "1280x720"

// ParseResolution reads a gxResolution value such as "1920x1080".
func ParseResolution(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	if ok {
		w, err = strconv.Atoi(ws)
		if err == nil {
			h, err = strconv.Atoi(hs)
		}
	}
	if !ok || err != nil || w < 64 || h < 64 || w > 16384 || h > 16384 {
		return 0, 0, fmt.Errorf("resolution %q: want WIDTHxHEIGHT, e.g. 1920x1080 (64 to 16384 pixels each)", s)
	}
	return w, h, nil
}

// The nine anchor points.
var anchorPoints = map[string]bool{
	"TOPLEFT": true, "TOP": true, "TOPRIGHT": true, "LEFT": true, "CENTER": true,
	"RIGHT": true, "BOTTOMLEFT": true, "BOTTOM": true, "BOTTOMRIGHT": true,
}

// anchor is one SetPoint: point of the region at relPoint of rel (nil: the
// screen), offset by x, y in the region's own units (y up, as in the client).
type anchor struct {
	point    string
	rel      *widget
	relPoint string
	x, y     float64
}

// Frame strata, bottom to top; 0 is "not a strata".
var strataRank = map[string]int{
	"BACKGROUND": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "DIALOG": 5,
	"FULLSCREEN": 6, "FULLSCREEN_DIALOG": 7, "TOOLTIP": 8,
}

// Draw layers inside one frame, bottom to top.
var layerRank = map[string]int{"BACKGROUND": 1, "BORDER": 2, "ARTWORK": 3, "OVERLAY": 4, "HIGHLIGHT": 5}

// frameStrata is the strata the region draws in: its own, else its parent's,
// as a child created without one follows its parent.
func (w *widget) frameStrata() string {
	for x := w; x != nil; x = x.parent {
		if x.strata != "" {
			return x.strata
		}
	}
	return "MEDIUM"
}

// frameLevel is SetFrameLevel's value, else one above the parent's.
func (w *widget) frameLevel() int {
	n := 0
	for x := w; x != nil; x = x.parent {
		if x.level >= 0 {
			return x.level + n
		}
		n++
	}
	return n - 1
}

// effectiveScale is the product of the scales up the parent chain.
func (w *widget) effectiveScale() float64 {
	s := 1.0
	for x := w; x != nil; x = x.parent {
		s *= x.scale
	}
	return s
}

// effectiveAlpha is the product of the alphas up the parent chain.
func (w *widget) effectiveAlpha() float64 {
	a := 1.0
	for x := w; x != nil; x = x.parent {
		a *= x.alpha
	}
	return a
}

// relativeArg reads SetPoint's relativeTo: a region, a region's name, or nil
// for the screen.
func (v *vm) relativeArg(L *lua.LState, n int) *widget {
	switch lv := L.Get(n).(type) {
	case *lua.LNilType:
		return nil
	case lua.LString:
		rel := v.named[string(lv)]
		if rel == nil {
			L.RaiseError("SetPoint(): Couldn't find region named '%s'", string(lv))
		}
		return rel
	default:
		rel := v.toWidget(lv)
		if rel == nil {
			L.ArgError(n, "region, name or nil expected")
		}
		return rel
	}
}

func checkPoint(L *lua.LState, n int) string {
	p := strings.ToUpper(L.CheckString(n))
	if !anchorPoints[p] {
		L.ArgError(n, "unknown anchor point "+p)
	}
	return p
}

// setPoint is Region:SetPoint(point [, relativeTo [, relativePoint]] [, x, y]).
// Without relativeTo the region anchors to its parent (the screen if it has
// none); an explicit nil is the screen.
func (v *vm) setPoint(L *lua.LState, w *widget) {
	a := anchor{point: checkPoint(L, 2), rel: w.parent}
	a.relPoint = a.point
	i := 3
	if L.GetTop() >= 3 {
		if _, isNum := L.Get(3).(lua.LNumber); !isNum {
			a.rel = v.relativeArg(L, 3)
			i = 4
			if _, isStr := L.Get(4).(lua.LString); isStr {
				a.relPoint = checkPoint(L, 4)
				i = 5
			}
		}
	}
	a.x = float64(L.OptNumber(i, 0))
	a.y = float64(L.OptNumber(i+1, 0))
	for x := a.rel; x != nil; x = x.parent {
		if x == w {
			L.RaiseError("SetPoint(): Cannot anchor to itself or a child")
		}
	}
	for k, p := range w.points {
		if p.point == a.point {
			w.points[k] = a
			return
		}
	}
	w.points = append(w.points, a)
}

// setAllPoints is Region:SetAllPoints([relativeTo]): both corners on the
// region (the parent by default).
func (v *vm) setAllPoints(L *lua.LState, w *widget) {
	rel := w.parent
	if L.GetTop() >= 2 {
		rel = v.relativeArg(L, 2)
	}
	w.points = []anchor{
		{point: "TOPLEFT", rel: rel, relPoint: "TOPLEFT"},
		{point: "BOTTOMRIGHT", rel: rel, relPoint: "BOTTOMRIGHT"},
	}
}

// getPoint is Region:GetPoint([index]).
func (v *vm) getPoint(L *lua.LState, w *widget) int {
	i := L.OptInt(2, 1)
	if i < 1 || i > len(w.points) {
		return 0
	}
	a := w.points[i-1]
	L.Push(lua.LString(a.point))
	L.Push(tableOrNil(a.rel))
	L.Push(lua.LString(a.relPoint))
	L.Push(lua.LNumber(a.x))
	L.Push(lua.LNumber(a.y))
	return 5
}

type edge int

const (
	edgeLeft edge = iota
	edgeRight
	edgeTop
	edgeBottom
	edgeCenterX
	edgeCenterY
)

// pushEdge answers GetLeft and friends: in the region's own units from the
// screen's bottom-left corner, nil while the region has no rectangle.
func (v *vm) pushEdge(L *lua.LState, w *widget, e edge) int {
	sw, sh := v.c.screenSize()
	r, ok := newLayout(sw, sh).rect(w)
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	k := pixelsPerUnit(w, sh)
	var px float64
	switch e {
	case edgeLeft:
		px = r.l
	case edgeRight:
		px = r.r
	case edgeCenterX:
		px = (r.l + r.r) / 2
	case edgeTop:
		px = float64(sh) - r.t
	case edgeBottom:
		px = float64(sh) - r.b
	case edgeCenterY:
		px = float64(sh) - (r.t+r.b)/2
	}
	L.Push(lua.LNumber(px / k))
	return 1
}

// setTexture is Texture:SetTexture(file) or SetTexture(r, g, b [, a]) (a
// solid colour).
func setTexture(L *lua.LState, w *widget) {
	if _, isNum := L.Get(2).(lua.LNumber); isNum {
		w.color = checkColor(L, 2)
		w.solid, w.text = true, ""
		return
	}
	w.text = L.OptString(2, "")
	w.solid = false
}

// checkColor reads r, g, b [, a] from argument n on, clamped to 0…1 as the
// client does.
func checkColor(L *lua.LState, n int) [4]float64 {
	c := [4]float64{float64(L.CheckNumber(n)), float64(L.CheckNumber(n + 1)), float64(L.CheckNumber(n + 2)),
		float64(L.OptNumber(n+3, 1))}
	for i, x := range c {
		c[i] = math.Min(1, math.Max(0, x))
	}
	return c
}

// checkLayer reads an optional draw layer; an unknown one keeps def.
func checkLayer(L *lua.LState, n int, def string) string {
	s, ok := L.Get(n).(lua.LString)
	if !ok {
		return def
	}
	if l := strings.ToUpper(string(s)); layerRank[l] > 0 {
		return l
	}
	return def
}

// pixelsPerUnit converts the region's own units to physical pixels.
func pixelsPerUnit(w *widget, screenH int) float64 {
	return w.effectiveScale() * float64(screenH) / uiHeight
}

// frect is a rectangle in physical pixels, y down, edges not yet rounded.
type frect struct{ l, t, r, b float64 }

// layout resolves anchors to rectangles for one screen size.
type layout struct {
	w, h  int
	done  map[*widget]frect
	ok    map[*widget]bool
	doing map[*widget]bool
}

func newLayout(w, h int) *layout {
	return &layout{w: w, h: h, done: map[*widget]frect{}, ok: map[*widget]bool{}, doing: map[*widget]bool{}}
}

func (lo *layout) screen() frect { return frect{0, 0, float64(lo.w), float64(lo.h)} }

// rect is the region's rectangle; false when its anchors do not pin it down
// (no points on a frame, an anchor cycle, a size missing).
func (lo *layout) rect(w *widget) (frect, bool) {
	if w == nil {
		return lo.screen(), true
	}
	if ok, seen := lo.ok[w]; seen {
		return lo.done[w], ok
	}
	if lo.doing[w] {
		return frect{}, false
	}
	lo.doing[w] = true
	r, ok := lo.resolve(w)
	delete(lo.doing, w)
	lo.done[w], lo.ok[w] = r, ok
	return r, ok
}

func (lo *layout) resolve(w *widget) (frect, bool) {
	if len(w.points) == 0 {
		switch {
		case w.fullscreen:
			return lo.screen(), true
		case w.kind == "Texture" || w.kind == "FontString":
			// A layered region without points fills its parent.
			return lo.rect(w.parent)
		}
		return frect{}, false
	}
	k := pixelsPerUnit(w, lo.h)
	var left, right, cx, top, bottom, cy []float64
	for _, a := range w.points {
		rr, ok := lo.rect(a.rel)
		if !ok {
			return frect{}, false
		}
		x, y := pointAt(rr, a.relPoint)
		x += a.x * k
		y -= a.y * k
		switch {
		case strings.HasSuffix(a.point, "LEFT"):
			left = append(left, x)
		case strings.HasSuffix(a.point, "RIGHT"):
			right = append(right, x)
		default:
			cx = append(cx, x)
		}
		switch {
		case strings.HasPrefix(a.point, "TOP"):
			top = append(top, y)
		case strings.HasPrefix(a.point, "BOTTOM"):
			bottom = append(bottom, y)
		default:
			cy = append(cy, y)
		}
	}
	l, r, okX := span(left, right, cx, w.width*k)
	t, b, okY := span(top, bottom, cy, w.height*k)
	return frect{l, t, r, b}, okX && okY
}

// span solves one axis from the anchored low edge, high edge or centre and
// the size, the first anchor of each kind winning.
func span(lo, hi, mid []float64, size float64) (float64, float64, bool) {
	switch {
	case len(lo) > 0 && len(hi) > 0:
		return lo[0], hi[0], true
	case len(lo) > 0 && len(mid) > 0:
		return lo[0], 2*mid[0] - lo[0], true
	case len(hi) > 0 && len(mid) > 0:
		return 2*mid[0] - hi[0], hi[0], true
	case len(lo) > 0:
		return lo[0], lo[0] + size, true
	case len(hi) > 0:
		return hi[0] - size, hi[0], true
	case len(mid) > 0:
		return mid[0] - size/2, mid[0] + size/2, true
	}
	return 0, 0, false
}

// pointAt is an anchor point of a rectangle, in pixels, y down.
func pointAt(r frect, p string) (float64, float64) {
	x, y := (r.l+r.r)/2, (r.t+r.b)/2
	if strings.HasSuffix(p, "LEFT") {
		x = r.l
	} else if strings.HasSuffix(p, "RIGHT") {
		x = r.r
	}
	if strings.HasPrefix(p, "TOP") {
		y = r.t
	} else if strings.HasPrefix(p, "BOTTOM") {
		y = r.b
	}
	return x, y
}

// pixelSpan is the pixels whose centres lie in [lo, hi): a rasterizer's
// top-left rule.
func pixelSpan(lo, hi float64) (int, int) {
	return int(math.Ceil(lo - 0.5)), int(math.Ceil(hi - 0.5))
}

// ErrMinimised is Client.Screen's answer while the window is minimised: a
// screen capture of a minimised window has nothing to read.
var ErrMinimised = errors.New("the WoW window is minimised")

// coverRect is the other window over WoW's top-left corner (WindowCovered).
var coverRect = image.Rect(0, 0, 400, 200)

// screenSize is the client's resolution in pixels.
func (c *Client) screenSize() (int, int) { return c.desk.screenW, c.desk.screenH }

// ScreenSize is the client's resolution in pixels (Config.Resolution).
func (c *Client) ScreenSize() (width, height int) { return c.screenSize() }

// Screen renders a region of the WoW window, as a screen capture of the
// window would show it: the 3D world (a gradient), the shown frames'
// solid-colour textures in draw order, and under WindowCovered another
// window over the top-left corner. The region is clipped to the screen; the
// image's bounds are the clipped region, in screen pixels.
func (c *Client) Screen(region image.Rectangle) (*image.RGBA, error) {
	if c.desk.window == WindowMinimised {
		return nil, ErrMinimised
	}
	sw, sh := c.screenSize()
	clip := region.Intersect(image.Rect(0, 0, sw, sh))
	if clip.Empty() {
		return nil, fmt.Errorf("the region %v lies outside the %dx%d screen", region, sw, sh)
	}
	img := image.NewRGBA(clip)
	for y := clip.Min.Y; y < clip.Max.Y; y++ {
		for x := clip.Min.X; x < clip.Max.X; x++ {
			img.SetRGBA(x, y, worldColor(x, y, sw, sh))
		}
	}
	lo := newLayout(sw, sh)
	for _, d := range c.vm.drawables(lo) {
		blendRect(img, d.rect, d.color)
	}
	if c.desk.window == WindowCovered {
		drawCoveringWindow(img, coverRect.Intersect(clip))
	}
	return img, nil
}

// worldColor is the 3D world behind the UI: a gradient whose blue stays at
// 0xB0 or more, so it can never be mistaken for a strip locator colour.
func worldColor(x, y, w, h int) color.RGBA {
	return color.RGBA{
		R: uint8(0x20 + 0x30*x/w),
		G: uint8(0x50 + 0x30*y/h),
		B: uint8(0xB0 + 0x30*y/h),
		A: 0xFF,
	}
}

// drawCoveringWindow paints another application's window: a grey title bar
// and border around a white body, like plain desktop UI.
func drawCoveringWindow(img *image.RGBA, r image.Rectangle) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.RGBA{0xF4, 0xF4, 0xF4, 0xFF}
			switch {
			case x == coverRect.Max.X-1 || y == coverRect.Max.Y-1:
				c = color.RGBA{0x99, 0x99, 0x99, 0xFF}
			case y < 24:
				c = color.RGBA{0xCC, 0xCC, 0xCC, 0xFF}
			}
			img.SetRGBA(x, y, c)
		}
	}
}

type drawable struct {
	rect  frect
	color [4]float64
	key   [5]int
}

// drawables lists the visible solid-colour textures in draw order: strata,
// frame level, frame creation, draw layer, texture creation.
func (v *vm) drawables(lo *layout) []drawable {
	var out []drawable
	for _, w := range v.widgets {
		if w.kind != "Texture" || !w.solid || w.parent == nil || !w.visible() {
			continue
		}
		r, ok := lo.rect(w)
		if !ok {
			continue
		}
		col := w.color
		for i := range col {
			col[i] *= w.vertex[i]
		}
		col[3] = min(1, col[3]*w.effectiveAlpha())
		if col[3] <= 0 {
			continue
		}
		f := w.parent
		out = append(out, drawable{rect: r, color: col,
			key: [5]int{strataRank[f.frameStrata()], f.frameLevel(), f.seq, layerRank[w.layer], w.seq}})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].key, out[j].key
		for k := range a {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return false
	})
	return out
}

// blendRect draws col over the pixels of r inside the image ("over"
// blending; an opaque colour is written exactly: component b/255 gives b).
func blendRect(img *image.RGBA, r frect, col [4]float64) {
	x0, x1 := pixelSpan(r.l, r.r)
	y0, y1 := pixelSpan(r.t, r.b)
	box := image.Rect(x0, y0, x1, y1).Intersect(img.Rect)
	a := col[3]
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			i := img.PixOffset(x, y)
			p := img.Pix[i : i+3 : i+3]
			for k := range p {
				p[k] = uint8(math.Round(255*col[k]*a + float64(p[k])*(1-a)))
			}
		}
	}
}
