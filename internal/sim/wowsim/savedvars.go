package wowsim

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// serializeSavedVariables renders the named globals as the client writes a
// SavedVariables file: one "Name = value" assignment per variable, tables
// written out with ["key"] = value lines and the array part annotated
// "-- [n]". Functions, userdata, threads and cyclic references are not
// saveable and are left out, as the client leaves them out.
func serializeSavedVariables(L *lua.LState, names []string) string {
	var b strings.Builder
	for _, name := range names {
		v := L.GetGlobal(name)
		if v == lua.LNil {
			continue
		}
		s, ok := serializeValue(v, 0, map[*lua.LTable]bool{})
		if !ok {
			continue
		}
		b.WriteString("\n")
		b.WriteString(name)
		b.WriteString(" = ")
		b.WriteString(s)
		b.WriteString("\n")
	}
	return b.String()
}

func serializeValue(v lua.LValue, depth int, visiting map[*lua.LTable]bool) (string, bool) {
	switch x := v.(type) {
	case lua.LBool:
		if x {
			return "true", true
		}
		return "false", true
	case lua.LNumber:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "", false
		}
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return strconv.FormatInt(int64(f), 10), true
		}
		return strconv.FormatFloat(f, 'g', -1, 64), true
	case lua.LString:
		return luaQuote(string(x)), true
	case *lua.LTable:
		return serializeTable(x, depth, visiting)
	}
	return "", false
}

func serializeTable(t *lua.LTable, depth int, visiting map[*lua.LTable]bool) (string, bool) {
	if visiting[t] {
		return "", false
	}
	visiting[t] = true
	defer delete(visiting, t)

	// The array part is 1..n without holes (gopher-lua's Len may count a
	// sparse tail, which real Lua would keep in the hash part).
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	var keys []lua.LValue
	t.ForEach(func(k, _ lua.LValue) {
		if num, ok := k.(lua.LNumber); ok && float64(num) == math.Trunc(float64(num)) && num >= 1 && int(num) <= n {
			return // written in the array part
		}
		keys = append(keys, k)
	})
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		an, aNum := a.(lua.LNumber)
		bn, bNum := b.(lua.LNumber)
		switch {
		case aNum && bNum:
			return an < bn
		case aNum != bNum:
			return aNum
		}
		return lua.LVAsString(a) < lua.LVAsString(b)
	})
	indent := strings.Repeat("\t", depth+1)
	var b strings.Builder
	b.WriteString("{\n")
	for _, k := range keys {
		var key string
		switch kk := k.(type) {
		case lua.LString:
			key = "[" + luaQuote(string(kk)) + "]"
		case lua.LNumber, lua.LBool:
			s, ok := serializeValue(kk, depth, visiting)
			if !ok {
				continue
			}
			key = "[" + s + "]"
		default:
			continue
		}
		val, ok := serializeValue(t.RawGet(k), depth+1, visiting)
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "%s%s = %s,\n", indent, key, val)
	}
	for i := 1; i <= n; i++ {
		val, ok := serializeValue(t.RawGetInt(i), depth+1, visiting)
		if !ok {
			val = "nil"
		}
		fmt.Fprintf(&b, "%s%s, -- [%d]\n", indent, val, i)
	}
	b.WriteString(strings.Repeat("\t", depth))
	b.WriteString("}")
	return b.String(), true
}
