package engine

import (
	"path/filepath"
	"slices"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/bridge"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/chatlog"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/markers"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/statefile"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// StateFileName is the engine's memory in the data folder.
const StateFileName = "state.json"

// Bounds of the remembered sets: far more than a stream produces between
// two restarts, small enough to rewrite the file every few seconds.
const (
	maxNotified = 2000
	maxWhoRuns  = 500
	maxGiftReqs = 500
	maxHandled  = 5000
	maxPending  = 1000
	maxMailed   = 2000
)

// State is everything the Desktop must remember across restarts so nothing
// is done twice and nothing is lost. It is rewritten atomically (temporary
// file + rename) whenever it changes.
type State struct {
	Version int `json:"version"`
	// ChatLog is where the tail stopped: the offset after the last line
	// whose markers are recorded below (in Pending or Handled).
	ChatLog *chatlog.Position `json:"chatLog,omitempty"`
	// Notified are payout ids whose winner was whispered (NotifyWinnerWhisper).
	Notified *statefile.Set `json:"notifiedPayouts"`
	// WhoRuns are spin cycle ids whose candidate was /who'd.
	WhoRuns *statefile.Set `json:"whoRunCycles"`
	// GiftItemsRequested are gift request ids whose bag listing was asked for.
	GiftItemsRequested *statefile.Set `json:"giftItemsRequested"`
	// Mailed are payout ids the addon reported as mailed ([MGM_CONFIRM] or
	// [MGM_ALREADY_MAILED]): Sync never types them again and Unlock refuses
	// them, whatever the EBS says.
	Mailed *statefile.Set `json:"mailedPayouts"`
	// GiftsMailed are gift request ids the addon reported as mailed
	// ([MGM_GIFT_SENT] or [MGM_GIFT_ALREADY_MAILED]).
	GiftsMailed *statefile.Set `json:"mailedGifts"`
	// GiftSelections are the items the roulette picked for the latest gifts,
	// kept until mailed: a confirm that got through while its answer was
	// lost (or the Desktop stopped) still has its item queued for mail.
	GiftSelections []GiftSelection `json:"giftSelections,omitempty"`
	// Handled are the keys of markers acted on (or dropped as definitive failures).
	Handled *statefile.Set `json:"handledMarkers"`
	// Pending are markers read from the log whose work is not finished yet
	// (waiting for a retry, a roulette, or an injection).
	Pending []*Work `json:"pendingMarkers"`
	// ItemParts holds split [MGM_ITEMS] listings until all parts arrived.
	ItemParts markers.Assembler `json:"itemParts"`
	// Bridge holds the bridge lines acted on and the commands not finished.
	Bridge *bridge.State `json:"bridge"`
}

// GiftSelection is the item selected for a gift request, and its winner.
type GiftSelection struct {
	ID            string          `json:"id"`
	CharacterName string          `json:"characterName"`
	Item          ebsapi.GiftItem `json:"item"`
}

// maxGiftSelections bounds GiftSelections: the EBS serves one gift at a time.
const maxGiftSelections = 16

// rememberSelectionLocked records a gift's selected item.
func (s *State) rememberSelectionLocked(g ebsapi.GiftRequest) {
	if g.SelectedItem == nil {
		return
	}
	s.GiftSelections = slices.DeleteFunc(s.GiftSelections, func(x GiftSelection) bool { return x.ID == g.ID })
	s.GiftSelections = append(s.GiftSelections, GiftSelection{ID: g.ID, CharacterName: g.CharacterName, Item: *g.SelectedItem})
	if n := len(s.GiftSelections); n > maxGiftSelections {
		s.GiftSelections = slices.Delete(s.GiftSelections, 0, n-maxGiftSelections)
	}
}

// selectionLocked returns a gift's recorded selection, as the EBS would.
func (s *State) selectionLocked(id string) (ebsapi.GiftRequest, bool) {
	for _, x := range s.GiftSelections {
		if x.ID == id {
			item := x.Item
			return ebsapi.GiftRequest{ID: id, CharacterName: x.CharacterName, State: mgm.GiftCompleted, SelectedItem: &item}, true
		}
	}
	return ebsapi.GiftRequest{}, false
}

func newState() *State {
	return &State{
		Version:            1,
		Notified:           statefile.NewSet(maxNotified),
		WhoRuns:            statefile.NewSet(maxWhoRuns),
		GiftItemsRequested: statefile.NewSet(maxGiftReqs),
		Handled:            statefile.NewSet(maxHandled),
		Mailed:             statefile.NewSet(maxMailed),
		GiftsMailed:        statefile.NewSet(maxMailed),
		Bridge:             bridge.NewState(),
	}
}

func statePath(dir string) string { return filepath.Join(dir, StateFileName) }

// LoadState reads the state file in dir (a missing file is a first run).
func LoadState(dir string) (*State, bool, error) {
	s := newState()
	ok, err := statefile.ReadJSON(statePath(dir), s)
	if err != nil {
		return newState(), ok, err
	}
	// "null" in the file leaves a set nil.
	fresh := newState()
	if s.Notified == nil {
		s.Notified = fresh.Notified
	}
	if s.WhoRuns == nil {
		s.WhoRuns = fresh.WhoRuns
	}
	if s.GiftItemsRequested == nil {
		s.GiftItemsRequested = fresh.GiftItemsRequested
	}
	if s.Handled == nil {
		s.Handled = fresh.Handled
	}
	if s.Mailed == nil { // also a state file older than this field
		s.Mailed = fresh.Mailed
	}
	if s.GiftsMailed == nil {
		s.GiftsMailed = fresh.GiftsMailed
	}
	if s.Bridge == nil {
		s.Bridge = fresh.Bridge
	}
	return s, ok, nil
}

// Work kinds.
const (
	kindWho         = "who"
	kindAccept      = "accept"
	kindConfirm     = "confirm"
	kindMailed      = "already-mailed"
	kindItems       = "items"
	kindGiftAccept  = "gift-accept"
	kindGiftMailed  = "gift-mailed"
	kindGiftGone    = "gift-missing"
	kindGiftRefused = "gift-not-allowed"
	kindUpdate      = "update"
)

// Stages of multi-step work.
const (
	stageRoulette = "roulette" // an item is chosen; select-item when NextAt passes
	stageInject   = "inject"   // EBS work done; a line remains to be typed
)

// Work is one marker's pending job.
type Work struct {
	Key     string `json:"key"`
	Kind    string `json:"kind"`
	ID      string `json:"id,omitempty"`
	Payload string `json:"payload,omitempty"`
	// Stage is "" (start), stageRoulette or stageInject.
	Stage string           `json:"stage,omitempty"`
	Item  *ebsapi.GiftItem `json:"item,omitempty"`
	Items []string         `json:"items,omitempty"` // names shown by the roulette
	// Line is the /run line of stageInject, typed without acknowledgement;
	// Fn and Args make an acknowledged command instead (the id is appended).
	Line      string    `json:"line,omitempty"`
	Fn        string    `json:"fn,omitempty"`
	Args      []string  `json:"args,omitempty"`
	Attempts  int       `json:"attempts,omitempty"`
	NextAt    time.Time `json:"nextAt"`
	LastError string    `json:"lastError,omitempty"`
	SeenAt    time.Time `json:"seenAt"`
}

// subject groups work that must happen in log order (an acceptance before
// the Sent of the same payout); different subjects do not wait for each other.
func (w *Work) subject() string {
	if w.ID != "" {
		return w.ID
	}
	return w.Kind
}
