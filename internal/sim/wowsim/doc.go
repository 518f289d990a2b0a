// Package wowsim simulates the World of Warcraft 3.3.5a client closely enough
// to run the real addon files (addon/MimironsGoldOMatic) in tests, CI and demos.
//
// A Client owns one gopher-lua VM (Lua 5.1 semantics) with the subset of the
// 3.3.5a API the addon uses, a small Lua "FrameXML" stand-in for the Blizzard
// frames it touches (mailbox, Friends frame, chat frame), and a simulated world
// (who is online, the bags, the mailbox, the server's answers). Time is a fake
// clock that only moves when Advance is called, so tests are exact and fast;
// OnUpdate scripts and every delayed server answer run from Advance.
//
// Where the addon depends on the real client's behaviour the simulator follows
// it rather than being convenient:
//
//   - /who answers arrive as WHO_LIST_UPDATE when who-to-UI is 1 or there are
//     more than three results, and otherwise as CHAT_MSG_SYSTEM lines built from
//     the localized WHO_LIST_FORMAT / WHO_LIST_GUILD_FORMAT / WHO_NUM_RESULTS.
//   - Protected functions (RunMacroText, CastSpellByName, …) are blocked:
//     ADDON_ACTION_BLOCKED fires and the call raises "action blocked".
//   - Buttons have Enable/Disable and no SetEnabled (added in 5.0).
//   - SendChatMessage refuses messages over 255 bytes.
//   - A chat line typed into the edit box keeps at most 255 characters (the
//     chat edit box's letters="255"): longer /run lines are cut, as typing them
//     would be, and usually fail to compile.
//   - string.lower/upper fold ASCII only, as the C library does for UTF-8 text,
//     and string.match returns nil when nothing matches (gopher-lua returned
//     nothing at all).
//   - Frames have 3.3.5a geometry (SetPoint with the nine anchor points,
//     SetAllPoints, SetScale and GetEffectiveScale, strata and levels), and
//     textures set to a solid colour (SetTexture(r, g, b [, a])) are drawn on
//     a virtual screen of Config.Resolution pixels, 768 UI units tall, which
//     the Desktop captures like the real window (screen.go).
//   - The chat edit box is ChatFrame1EditBox: it has the keyboard focus while
//     open (GetCurrentKeyBoardFocus), holds what was typed, and Enter sends its
//     whole text. A simulated streamer may be typing in it (input.go); the
//     injector's keys reaching that text are recorded as trampling it.
//   - /reload writes the SavedVariables as Lua source (like the WTF file), runs
//     the addon files again in a fresh VM and restores the variables before
//     ADDON_LOADED.
//
// What the real client does is unmeasured in places (when the chat log
// reaches the disk, whether prints are logged, whether the LoggingChat toggle
// flushes, whether posted keys reach a closed chat box); modes.go holds a
// mode for each, the convenient behaviour being the zero value for now.
//
// Lua errors raised by the addon are caught like the client's error frame
// does (the next handler still runs) and collected; tests fail on them.
//
// Main runs the simulator as "mgm-sim wow": an HTTP server with the
// predecessor's /api/mock routes plus simulation controls (see server.go).
package wowsim
