// Package settings keeps the Desktop's settings (settings.json in the user's
// config folder, %AppData%\MimironsGoldOMatic on Windows) and its API key,
// which is stored apart from them by a SecretStore: DPAPI on Windows, a file
// only the user can read elsewhere.
package settings

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/statefile"
)

// AppFolder is the folder name under the user's config directory.
const AppFolder = "MimironsGoldOMatic"

// DefaultDir is os.UserConfigDir()/MimironsGoldOMatic.
func DefaultDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config folder: %w (use --data-dir)", err)
	}
	return filepath.Join(d, AppFolder), nil
}

// Injection strategies on Windows.
const (
	StrategyPostMessage = "PostMessage"
	StrategySendInput   = "SendInput"
)

// Poll interval bounds, in seconds.
const (
	MinPollSeconds     = 1
	MaxPollSeconds     = 600
	DefaultPollSeconds = 5
)

// Settings are what the streamer configures. JSON names are the
// predecessor's (PascalCase), so its settings.json still loads.
type Settings struct {
	BaseURL                string `json:"BaseUrl"`
	PollIntervalSeconds    int    `json:"PollIntervalSeconds"`
	InjectionStrategy      string `json:"InjectionStrategy"`
	WoWInstallDirectory    string `json:"WoWInstallDirectory,omitempty"`
	WoWChatLogPathOverride string `json:"WoWChatLogPathOverride,omitempty"`
	// WoWProcess is the WoW target: an executable name (default WoW.exe)
	// or "pid:<n>" picked in the UI.
	WoWProcess string `json:"WoWProcess,omitempty"`
	// WoWSimulatorURL is the WoW client simulator (demos; --injector=simulator).
	WoWSimulatorURL string `json:"WoWSimulatorUrl,omitempty"`
}

// Defaults are the settings of a first run.
func Defaults() Settings {
	return Settings{PollIntervalSeconds: DefaultPollSeconds, InjectionStrategy: StrategyPostMessage}
}

// Normalize trims fields, clamps the poll interval and canonicalises the strategy.
func (s Settings) Normalize() Settings {
	s.BaseURL = strings.TrimRight(strings.TrimSpace(s.BaseURL), "/")
	s.WoWInstallDirectory = strings.TrimSpace(s.WoWInstallDirectory)
	s.WoWChatLogPathOverride = strings.TrimSpace(s.WoWChatLogPathOverride)
	s.WoWProcess = strings.TrimSpace(s.WoWProcess)
	s.WoWSimulatorURL = strings.TrimRight(strings.TrimSpace(s.WoWSimulatorURL), "/")
	switch {
	case s.PollIntervalSeconds == 0:
		s.PollIntervalSeconds = DefaultPollSeconds
	case s.PollIntervalSeconds < MinPollSeconds:
		s.PollIntervalSeconds = MinPollSeconds
	case s.PollIntervalSeconds > MaxPollSeconds:
		s.PollIntervalSeconds = MaxPollSeconds
	}
	if strings.EqualFold(s.InjectionStrategy, StrategySendInput) {
		s.InjectionStrategy = StrategySendInput
	} else {
		s.InjectionStrategy = StrategyPostMessage
	}
	return s
}

// Validate reports settings that cannot work, one problem per line.
func (s Settings) Validate() error {
	var problems []string
	if s.BaseURL != "" {
		if u, err := url.Parse(s.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, fmt.Sprintf("EBS URL %q must look like https://ebs.example.com or http://127.0.0.1:8080", s.BaseURL))
		}
	}
	if s.WoWSimulatorURL != "" {
		if u, err := url.Parse(s.WoWSimulatorURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, fmt.Sprintf("WoW simulator URL %q must be an http(s) URL", s.WoWSimulatorURL))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// Store reads and writes settings.json and the API key in one folder.
type Store struct {
	Dir     string
	Secrets SecretStore
}

// NewStore keeps settings in dir (created on first save) with the platform's
// secret store.
func NewStore(dir string) *Store {
	return &Store{Dir: dir, Secrets: NewSecretStore(dir)}
}

// Path is settings.json's path.
func (s *Store) Path() string { return filepath.Join(s.Dir, "settings.json") }

// Load returns the saved settings, or the defaults with exists=false on a
// first run. A corrupt file yields the defaults and an error saying so.
func (s *Store) Load() (Settings, bool, error) {
	v := Defaults()
	ok, err := statefile.ReadJSON(s.Path(), &v)
	if err != nil {
		return Defaults(), ok, err
	}
	return v.Normalize(), ok, nil
}

// Save writes settings.json (readable only by the user: it names folders).
func (s *Store) Save(v Settings) error {
	return statefile.WriteJSON(s.Path(), v.Normalize(), 0o600)
}

// SecretStore keeps the API key.
type SecretStore interface {
	// Load returns the key, or "" when none is stored.
	Load() (string, error)
	// Save stores the key, replacing any previous one.
	Save(key string) error
	// Clear deletes the stored key (no error when there is none).
	Clear() error
	// Describe says where and how the key is kept, for the UI.
	Describe() string
}

// FileSecretStore keeps the key in a file only the user may read (mode 0600).
// On Windows the DPAPI store wraps the same file with encryption.
type FileSecretStore struct{ Path string }

// Load implements SecretStore. A file others may read is refused, since the
// key may have leaked through it.
func (f FileSecretStore) Load() (string, error) {
	fi, err := os.Stat(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if filepath.Separator == '/' && fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is readable by other users (mode %v); delete it and enter the API key again", f.Path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(f.Path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// Save implements SecretStore.
func (f FileSecretStore) Save(key string) error {
	return statefile.WriteFile(f.Path, []byte(key), 0o600)
}

// Clear implements SecretStore.
func (f FileSecretStore) Clear() error {
	if err := os.Remove(f.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Describe implements SecretStore.
func (f FileSecretStore) Describe() string { return "file readable only by you: " + f.Path }
