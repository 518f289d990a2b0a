// Package desktop holds the Desktop companion (cmd/mgm-desktop), one
// subpackage per job:
//
//   - chatlog: follows WoWChatLog.txt (offset, truncation, partial lines, BOM)
//   - markers: recognises the addon's [MGM_…] markers in a log line
//   - inject: builds the /run lines (escaping, the ReceiveGold chunker), the
//     ordered injection queue with its typing-guard gate, the injectors
//     (Windows, WoW simulator), the keyboard's idle time and elevation
//   - bridge: the bridge protocol's rules (docs/bridge.md): each bridge line
//     once, acknowledgements to the addon, the handshake, commands
//   - strip, screen: the screen route — the addon's pixel strip, and reading
//     it from WoW's window (or the simulator's screen)
//   - engine: the automations (polling, /who, whispers, markers → EBS, the
//     gift queue, Sync/Inject, manual actions) and the state file
//   - ui: the local web UI and its JSON API
//   - settings: settings.json and the API key's secret store
//   - eventlog: the live event log, a slog.Handler the others log through
//   - wintest: the Windows code run under Wine (test only)
//
// This package itself assembles everything for the binary (Run: build,
// then serve); its test tier C is the full loop (sim.md).
package desktop
