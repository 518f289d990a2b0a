package wowsim

import (
	lua "github.com/yuin/gopher-lua"
)

// attachmentsMax is ATTACHMENTS_MAX_SEND on 3.3.5a: twelve items per mail.
const attachmentsMax = 12

// slotRef names a bag slot.
type slotRef struct{ bag, slot int }

// mailItemAPI is the cursor and the Send Mail attachments, with the 3.3.5a
// semantics: PickupContainerItem(bag, slot) puts a bag item on the cursor (or
// drops the cursor's item there), ClickSendMailItemButton(i) drops the
// cursor's item into attachment slot i (or picks up what is there; with a
// second argument true it just clears the slot), and SendMail takes the
// attached items out of the bags once the server accepts the mail. An item on
// the cursor or attached stays in its bag slot, locked, until then.
func (v *vm) mailItemAPI() api {
	c := v.c
	return api{
		"PickupContainerItem": func(L *lua.LState) int {
			c.pickupContainerItem(slotRef{L.CheckInt(1), L.CheckInt(2)})
			return 0
		},
		"ClickSendMailItemButton": func(L *lua.LState) int {
			c.clickSendMailItemButton(L.CheckInt(1), L.ToBool(2))
			return 0
		},
		"CursorHasItem": func(L *lua.LState) int {
			L.Push(lua.LBool(c.cursor != nil))
			return 1
		},
		"ClearCursor": func(L *lua.LState) int { c.cursor = nil; return 0 },
		"HasSendMailItem": func(L *lua.LState) int {
			_, ok := c.attachedItem(L.CheckInt(1))
			L.Push(lua.LBool(ok))
			return 1
		},
		"GetSendMailItem": func(L *lua.LState) int {
			it, ok := c.attachedItem(L.CheckInt(1))
			if !ok {
				return 0
			}
			L.Push(lua.LString(it.Name))
			L.Push(lua.LString(itemTexture(it)))
			L.Push(lua.LNumber(itemCount(it)))
			L.Push(lua.LNumber(it.Quality))
			return 4
		},
		"GetSendMailItemLink": func(L *lua.LState) int {
			it, ok := c.attachedItem(L.CheckInt(1))
			if !ok {
				L.Push(lua.LNil)
				return 1
			}
			L.Push(lua.LString(itemLink(it)))
			return 1
		},
	}
}

func (c *Client) locked(r slotRef) bool {
	if c.cursor != nil && *c.cursor == r {
		return true
	}
	for _, a := range c.attachments {
		if a != nil && *a == r {
			return true
		}
	}
	return false
}

func (c *Client) pickupContainerItem(r slotRef) {
	if c.cursor == nil {
		if _, ok := c.itemAt(r.bag, r.slot); ok && !c.locked(r) {
			c.cursor = &r
		}
		return
	}
	from := *c.cursor
	c.cursor = nil
	if from == r || c.locked(r) {
		return
	}
	// Dropping on another slot swaps the two stacks.
	for i := range c.items {
		switch {
		case c.items[i].Bag == from.bag && c.items[i].Slot == from.slot:
			c.items[i].Bag, c.items[i].Slot = r.bag, r.slot
		case c.items[i].Bag == r.bag && c.items[i].Slot == r.slot:
			c.items[i].Bag, c.items[i].Slot = from.bag, from.slot
		}
	}
}

func (c *Client) clickSendMailItemButton(i int, clear bool) {
	if i < 1 || i > attachmentsMax || !c.mailboxOpen {
		return
	}
	old := c.attachments[i-1]
	if clear {
		c.attachments[i-1] = nil
		return
	}
	if c.cursor == nil {
		// An empty cursor picks the attachment up again.
		c.attachments[i-1], c.cursor = nil, old
		return
	}
	it, ok := c.itemAt(c.cursor.bag, c.cursor.slot)
	if !ok {
		c.cursor = nil
		return
	}
	if it.Soulbound || it.Quest || it.AccountBound || it.Conjured {
		c.uiError(c.gs["ERR_MAIL_BOUND_ITEM"])
		return
	}
	c.attachments[i-1], c.cursor = c.cursor, old
}

func (c *Client) attachedItem(i int) (Item, bool) {
	if i < 1 || i > attachmentsMax || c.attachments[i-1] == nil {
		return Item{}, false
	}
	r := c.attachments[i-1]
	return c.itemAt(r.bag, r.slot)
}

// attachedItems lists the attached stacks, in attachment order.
func (c *Client) attachedItems() []Item {
	var out []Item
	for i := 1; i <= attachmentsMax; i++ {
		if it, ok := c.attachedItem(i); ok {
			out = append(out, it)
		}
	}
	return out
}

// removeItems takes mailed stacks out of the bags.
func (c *Client) removeItems(gone []Item) {
	keep := c.items[:0]
	for _, it := range c.items {
		mailed := false
		for _, g := range gone {
			if g.Bag == it.Bag && g.Slot == it.Slot {
				mailed = true
			}
		}
		if !mailed {
			keep = append(keep, it)
		}
	}
	c.items = keep
}

// GiftQueueStates reads the states of the addon's gift mail rows ("READY",
// "PROCESSING"), in queue order.
func (c *Client) GiftQueueStates() []string {
	db, ok := c.vm.L.GetGlobal("MimironsGoldOMaticDB").(*lua.LTable)
	if !ok {
		return nil
	}
	q, ok := db.RawGetString("giftQueue").(*lua.LTable)
	if !ok {
		return nil
	}
	var out []string
	for i := 1; i <= q.Len(); i++ {
		if r, ok := q.RawGetInt(i).(*lua.LTable); ok {
			out = append(out, lua.LVAsString(r.RawGetString("state")))
		}
	}
	return out
}
