package wowsim

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"testing"
)

// stripLua draws a bridge-style strip through the widget API the way
// docs/bridge.md tells the addon to: a parentless TOOLTIP frame at the
// screen's top-left, 66 cells of 3×3 physical pixels, sized from gxResolution
// and the frame's effective scale.
const stripLua = `
local f = CreateFrame("Frame", "TestStrip")
f:SetFrameStrata("TOOLTIP")
local _, h = strsplit("x", GetCVar("gxResolution"))
local px = 768 / tonumber(h) / f:GetEffectiveScale()
f:SetPoint("TOPLEFT", nil, "TOPLEFT", 0, 0)
f:SetWidth(66 * 3 * px)
f:SetHeight(3 * px)
for i = 0, 65 do
	local t = f:CreateTexture(nil, "OVERLAY")
	local r, g, b = TestCellColour(i)
	t:SetTexture(r / 255, g / 255, b / 255)
	t:SetWidth(3 * px)
	t:SetHeight(3 * px)
	t:SetPoint("TOPLEFT", f, "TOPLEFT", i * 3 * px, 0)
end
`

// cellColour is the colour of strip cell i: the two locator colours, then
// bytes that vary in every component.
func cellColour(i int) color.RGBA {
	switch i {
	case 0:
		return color.RGBA{0x4D, 0x47, 0x42, 0xFF}
	case 1:
		return color.RGBA{0x21, 0x62, 0x72, 0xFF}
	}
	return color.RGBA{uint8(i * 3), uint8(i*7 + 1), uint8(255 - i), 0xFF}
}

const cellColourLua = `function TestCellColour(i)
	if i == 0 then return 0x4D, 0x47, 0x42 end
	if i == 1 then return 0x21, 0x62, 0x72 end
	return (i * 3) % 256, (i * 7 + 1) % 256, 255 - i
end`

func TestScreenStripIsPixelExact(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		res     string
		uiScale float64
	}{{"1280x720", 0}, {"1920x1080", 0}, {"1920x1080", 0.71}, {"1366x768", 0.9}, {"2560x1440", 0.64}} {
		t.Run(fmt.Sprintf("%s scale %g", tt.res, tt.uiScale), func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, func(cfg *Config) { cfg.Resolution, cfg.UIScale = tt.res, tt.uiScale })
			execLua(t, c, cellColourLua)
			execLua(t, c, stripLua)
			img, err := c.Screen(image.Rect(0, 0, 256, 16))
			if err != nil {
				t.Fatal(err)
			}
			sw, sh := c.ScreenSize()
			for y := 0; y < 16; y++ {
				for x := 0; x < 256; x++ {
					want := worldColor(x, y, sw, sh)
					if x < 198 && y < 3 {
						want = cellColour(x / 3)
					}
					if got := img.RGBAAt(x, y); got != want {
						t.Fatalf("pixel (%d, %d) = %v, want %v", x, y, got, want)
					}
				}
			}
		})
	}
}

// probe is a pixel and the colour it must have; a zero colour means the
// world shows through.
type probe struct {
	x, y int
	want color.RGBA
}

var (
	red   = color.RGBA{255, 0, 0, 255}
	green = color.RGBA{0, 255, 0, 255}
	blue  = color.RGBA{0, 0, 255, 255}
	world = color.RGBA{}
)

// TestScreenLayout renders frames through the widget API on a 1024×768
// screen, where one UI unit is one pixel at scale 1.
func TestScreenLayout(t *testing.T) {
	t.Parallel()
	// box makes a frame holding one solid texture that fills it.
	const box = `function Box(name, parent, r, g, b, a)
		local f = CreateFrame("Frame", name, parent)
		local t = f:CreateTexture(name and name .. "Tex" or nil)
		t:SetTexture(r, g, b, a)
		return f, t
	end
	`
	for _, tt := range []struct {
		name   string
		lua    string
		probes []probe
	}{
		{"texture without points fills its frame", `local f = Box("A", UIParent, 1, 0, 0)
			f:SetPoint("TOPLEFT", 10, -20) f:SetWidth(30) f:SetHeight(40)`,
			[]probe{{10, 20, red}, {39, 59, red}, {9, 20, world}, {40, 20, world}, {10, 19, world}, {10, 60, world}}},
		{"centre of the screen", `local f = Box("A", UIParent, 0, 1, 0)
			f:SetPoint("CENTER") f:SetWidth(100) f:SetHeight(50)`,
			[]probe{{462, 359, green}, {561, 408, green}, {461, 359, world}, {562, 408, world}, {462, 358, world}, {462, 409, world}}},
		{"bottom-right with offsets", `local f = Box("A", nil, 0, 0, 1)
			f:SetPoint("BOTTOMRIGHT", nil, "BOTTOMRIGHT", -4, 6) f:SetWidth(10) f:SetHeight(10)`,
			[]probe{{1010, 752, blue}, {1019, 761, blue}, {1020, 761, world}, {1019, 762, world}}},
		{"two points stretch", `local f = Box("A", UIParent, 1, 0, 0)
			f:SetPoint("TOPLEFT", 100, -100) f:SetPoint("BOTTOMRIGHT", UIParent, "TOPLEFT", 110, -105)`,
			[]probe{{100, 100, red}, {109, 104, red}, {110, 104, world}, {109, 105, world}}},
		{"anchored to a named frame", `local a = Box("A", UIParent, 1, 0, 0)
			a:SetPoint("TOPLEFT", 100, -100) a:SetWidth(10) a:SetHeight(10)
			local b = Box("B", UIParent, 0, 1, 0)
			b:SetPoint("TOPLEFT", "A", "TOPRIGHT", 5, 0) b:SetWidth(10) b:SetHeight(10)`,
			[]probe{{109, 100, red}, {110, 100, world}, {115, 100, green}, {124, 109, green}, {125, 100, world}}},
		{"texture with its own point and size", `local f = Box("A", UIParent, 0, 0, 1)
			f:SetPoint("TOPLEFT", 0, 0) f:SetWidth(100) f:SetHeight(100)
			ATex:SetPoint("TOPRIGHT", f, "TOPRIGHT", -10, -10) ATex:SetWidth(5) ATex:SetHeight(5)`,
			[]probe{{85, 10, blue}, {89, 14, blue}, {84, 10, world}, {90, 10, world}, {0, 0, world}}},
		{"SetAllPoints on another frame", `local a = Box("A", UIParent, 1, 0, 0)
			a:SetPoint("TOPLEFT", 50, -50) a:SetWidth(20) a:SetHeight(20)
			local b = Box("B", UIParent, 0, 1, 0)
			b:SetAllPoints(a) b:SetFrameLevel(9)`,
			[]probe{{50, 50, green}, {69, 69, green}, {70, 69, world}}},
		{"scale multiplies size and offsets", `local f = Box("A", UIParent, 1, 0, 0)
			f:SetScale(2) f:SetPoint("TOPLEFT", 10, -10) f:SetWidth(20) f:SetHeight(20)`,
			[]probe{{20, 20, red}, {59, 59, red}, {19, 20, world}, {60, 59, world}}},
		{"scale follows the parent chain", `local p = CreateFrame("Frame", "P", UIParent)
			p:SetScale(2) p:SetAllPoints(UIParent)
			local f = Box("A", p, 1, 0, 0) f:SetScale(1.5)
			f:SetPoint("TOPLEFT", nil, "TOPLEFT", 2, -2) f:SetWidth(4) f:SetHeight(4)
			assert(f:GetEffectiveScale() == 3 and f:GetScale() == 1.5)`,
			[]probe{{6, 6, red}, {17, 17, red}, {5, 6, world}, {18, 17, world}}},
		{"fractional edges round like a rasterizer", `local f = Box("A", nil, 1, 0, 0)
			f:SetPoint("TOPLEFT", nil, "TOPLEFT", 10.4, -20.6) f:SetWidth(10.2) f:SetHeight(3)`,
			[]probe{{10, 21, red}, {20, 23, red}, {9, 21, world}, {21, 21, world}, {10, 20, world}, {10, 24, world}}},
		{"higher strata draws over earlier creation", `local a = Box("A", UIParent, 1, 0, 0)
			a:SetFrameStrata("HIGH") a:SetPoint("TOPLEFT") a:SetWidth(10) a:SetHeight(10)
			local b = Box("B", UIParent, 0, 1, 0)
			b:SetFrameStrata("LOW") b:SetFrameLevel(50) b:SetPoint("TOPLEFT") b:SetWidth(20) b:SetHeight(20)`,
			[]probe{{5, 5, red}, {15, 15, green}}},
		{"children follow the parent's strata", `local a = Box("A", UIParent, 1, 0, 0)
			a:SetPoint("TOPLEFT") a:SetWidth(10) a:SetHeight(10)
			local p = CreateFrame("Frame", "P", UIParent) p:SetFrameStrata("BACKGROUND") p:SetAllPoints(UIParent)
			local b = Box("B", p, 0, 1, 0) b:SetPoint("TOPLEFT") b:SetWidth(20) b:SetHeight(20)
			assert(b:GetFrameStrata() == "BACKGROUND")`,
			[]probe{{5, 5, red}, {15, 15, green}}},
		{"frame level orders one strata", `local a = Box("A", UIParent, 1, 0, 0)
			a:SetFrameLevel(5) a:SetPoint("TOPLEFT") a:SetWidth(10) a:SetHeight(10)
			local b = Box("B", UIParent, 0, 1, 0)
			b:SetFrameLevel(4) b:SetPoint("TOPLEFT") b:SetWidth(20) b:SetHeight(20)`,
			[]probe{{5, 5, red}, {15, 15, green}}},
		{"creation order breaks ties", `local a = Box("A", UIParent, 1, 0, 0)
			a:SetPoint("TOPLEFT") a:SetWidth(10) a:SetHeight(10)
			local b = Box("B", UIParent, 0, 1, 0)
			b:SetPoint("TOPLEFT") b:SetWidth(5) b:SetHeight(5)`,
			[]probe{{2, 2, green}, {7, 7, red}}},
		{"draw layers inside a frame", `local f = CreateFrame("Frame", "A", UIParent)
			f:SetPoint("TOPLEFT") f:SetWidth(10) f:SetHeight(10)
			f:CreateTexture(nil, "OVERLAY"):SetTexture(1, 0, 0)
			f:CreateTexture(nil, "BACKGROUND"):SetTexture(0, 1, 0)`,
			[]probe{{5, 5, red}}},
		{"alpha blends over what is below", `local a = Box("A", UIParent, 0, 0, 0)
			a:SetPoint("TOPLEFT") a:SetWidth(10) a:SetHeight(10)
			local b = Box("B", UIParent, 1, 1, 1, 0.5)
			b:SetPoint("TOPLEFT") b:SetWidth(10) b:SetHeight(10)
			local c = Box("C", UIParent, 1, 1, 1)
			c:SetAlpha(0.25) c:SetPoint("TOPLEFT", 20, 0) c:SetWidth(10) c:SetHeight(10)
			local d = Box("D", c, 0, 0, 0)
			d:SetPoint("TOPLEFT", 20, 0) d:SetWidth(10) d:SetHeight(10)`,
			[]probe{{5, 5, color.RGBA{128, 128, 128, 255}}, {45, 5, color.RGBA{26, 60, 132, 255}}}},
		{"vertex colour multiplies", `local f, t = Box("A", UIParent, 1, 1, 1)
			f:SetPoint("TOPLEFT") f:SetWidth(10) f:SetHeight(10) t:SetVertexColor(0, 1, 0)`,
			[]probe{{5, 5, green}}},
		{"hidden frames and textures are not drawn", `local a = Box("A", UIParent, 1, 0, 0)
			a:SetPoint("TOPLEFT") a:SetWidth(10) a:SetHeight(10) a:Hide()
			local b, t = Box("B", UIParent, 0, 1, 0)
			b:SetPoint("TOPLEFT", 20, 0) b:SetWidth(10) b:SetHeight(10) t:Hide()`,
			[]probe{{5, 5, world}, {25, 5, world}}},
		{"Alt+Z hides UIParent's children, not parentless frames", `local a = Box("A", UIParent, 1, 0, 0)
			a:SetPoint("TOPLEFT") a:SetWidth(10) a:SetHeight(10)
			local b = Box("B", nil, 0, 1, 0)
			b:SetPoint("TOPLEFT", nil, "TOPLEFT", 20, 0) b:SetWidth(10) b:SetHeight(10)
			UIParent:Hide()`,
			[]probe{{5, 5, world}, {25, 5, green}}},
		{"a frame without points is not drawn", `local a = Box("A", UIParent, 1, 0, 0)
			a:SetWidth(10) a:SetHeight(10)`,
			[]probe{{5, 5, world}}},
		{"ClearAllPoints removes the rectangle", `local a = Box("A", UIParent, 1, 0, 0)
			a:SetPoint("TOPLEFT") a:SetWidth(10) a:SetHeight(10) a:ClearAllPoints()`,
			[]probe{{5, 5, world}}},
		{"a file texture is not a colour", `local a, t = Box("A", UIParent, 1, 0, 0)
			a:SetPoint("TOPLEFT") a:SetWidth(10) a:SetHeight(10) t:SetTexture("Interface\\Buttons\\WHITE8X8")`,
			[]probe{{5, 5, world}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, func(cfg *Config) { cfg.Resolution = "1024x768" })
			// The addon's own strip would cover the corner the cases draw in.
			execLua(t, c, "MimironsGoldOMaticStrip:Hide()")
			execLua(t, c, box+tt.lua)
			img, err := c.Screen(image.Rect(0, 0, 1024, 768))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.probes {
				want := p.want
				if want == world {
					want = worldColor(p.x, p.y, 1024, 768)
				}
				if got := img.RGBAAt(p.x, p.y); got != want {
					t.Errorf("pixel (%d, %d) = %v, want %v", p.x, p.y, got, want)
				}
			}
		})
	}
}

func TestScreenGeometryGetters(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, func(cfg *Config) { cfg.Resolution = "1920x1080"; cfg.UIScale = 0.75 })
	got := evalString(t, c, `local f = CreateFrame("Frame", "A", UIParent)
		f:SetPoint("BOTTOMLEFT", 10, 20) f:SetWidth(30) f:SetHeight(40)
		local p, rel, rp, x, y = f:GetPoint(1)
		local cx, cy = f:GetCenter()
		return table.concat({p, rel:GetName(), rp, x, y, f:GetNumPoints(), f:GetLeft(), f:GetBottom(), f:GetRight(),
			f:GetTop(), cx, cy, GetScreenHeight(), math.floor(GetScreenWidth() * 1000), f:GetEffectiveScale(),
			GetCVar("gxResolution"), GetCVar("uiScale"), GetCVar("useUiScale")}, " ")`)
	want := "BOTTOMLEFT UIParent BOTTOMLEFT 10 20 1 10 20 40 60 25 40 1024 1820444 0.75 1920x1080 0.75 1"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := evalString(t, c, `return tostring(CreateFrame("Frame"):GetLeft())`); got != "nil" {
		t.Fatalf("GetLeft of a frame without points = %s", got)
	}
	for _, code := range []string{
		`CreateFrame("Frame"):SetPoint("MIDDLE")`,
		`CreateFrame("Frame"):SetPoint("TOPLEFT", "NoSuchFrame")`,
		`CreateFrame("Frame"):SetScale(0)`,
		`local f = CreateFrame("Frame") f:SetPoint("TOPLEFT", f)`,
	} {
		if _, err := c.Eval(code); err == nil {
			t.Errorf("%s: no error", code)
		}
	}
}

func TestScreenWindowStates(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	execLua(t, c, cellColourLua)
	execLua(t, c, stripLua)

	c.SetWindow(WindowCovered)
	img, err := c.Screen(image.Rect(0, 0, 1280, 720))
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 200; y++ {
		for x := 0; x < 400; x++ {
			p := img.RGBAAt(x, y)
			if p.R != p.G || p.G != p.B || p.R < 0x99 {
				t.Fatalf("covered pixel (%d, %d) = %v, want the other window's grey or white", x, y, p)
			}
		}
	}
	if got, want := img.RGBAAt(400, 0), worldColor(400, 0, 1280, 720); got != want {
		t.Fatalf("pixel right of the covering window = %v, want the world %v", got, want)
	}

	c.SetWindow(WindowMinimised)
	if _, err := c.Screen(image.Rect(0, 0, 16, 16)); !errors.Is(err, ErrMinimised) {
		t.Fatalf("minimised capture: %v", err)
	}

	c.SetWindow(WindowVisible)
	img, err = c.Screen(image.Rect(1270, 710, 1300, 740))
	if err != nil {
		t.Fatal(err)
	}
	if img.Rect != image.Rect(1270, 710, 1280, 720) {
		t.Fatalf("clipped bounds %v", img.Rect)
	}
	if _, err := c.Screen(image.Rect(1280, 0, 1290, 10)); err == nil {
		t.Fatal("a region outside the screen gave no error")
	}
}

// TestWorldNeverShowsLocatorColours: the strip decoder looks for the exact
// locator colours, so the world behind the UI must never contain them.
func TestWorldNeverShowsLocatorColours(t *testing.T) {
	t.Parallel()
	for _, res := range []string{"1280x720", "1920x1080", "3840x2160", "800x600"} {
		w, h, err := ParseResolution(res)
		if err != nil {
			t.Fatal(err)
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if p := worldColor(x, y, w, h); p == cellColour(0) || p == cellColour(1) {
					t.Fatalf("%s: the world at (%d, %d) is a locator colour", res, x, y)
				}
			}
		}
	}
}

func TestParseResolution(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{"1920x1080": true, " 1280X720 ": true, "1280": false, "x720": false,
		"10x10": false, "99999x1080": false, "axb": false} {
		if _, _, err := ParseResolution(in); (err == nil) != ok {
			t.Errorf("ParseResolution(%q) error = %v", in, err)
		}
	}
	if _, err := New(Config{AddonDir: addonDir, Resolution: "big"}); err == nil {
		t.Error("New accepted a bad resolution")
	}
	if _, err := New(Config{AddonDir: addonDir, UIScale: 2}); err == nil {
		t.Error("New accepted UI scale 2")
	}
}
