package ebs

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/acme/autocert"

	"github.com/mimirons-goldomatic/mgm/internal/autotls"
)

// ACMEDir holds the certificate cache inside a SQLite deployment's data folder.
const ACMEDir = "acme"

// buildTLS prepares built-in HTTPS when Mgm__TlsDomain is set. On SQLite one
// process owns the data folder and keeps the certificate there; on
// PostgreSQL the replicas share it through the database and take turns
// ordering, so that N replicas make one order.
func (b *backend) buildTLS(o Options) error {
	t := b.cfg.TLS
	if !t.Enabled() {
		return nil
	}
	var roots *x509.CertPool
	if t.CARootsFile != "" {
		var err error
		if roots, err = autotls.LoadRoots(t.CARootsFile); err != nil {
			return fmt.Errorf("Mgm__AcmeCaRoots: %w", err)
		}
	}
	cfg := autotls.Config{
		Domain: t.Domain, DirectoryURL: t.DirectoryURL, Email: t.Email, RootCAs: roots,
		Logger: o.Logger, Now: o.Now,
	}
	if b.cfg.PostgresDSN != "" {
		host, _ := os.Hostname()
		r := make([]byte, 4)
		_, _ = rand.Read(r)
		cfg.Cache = autotls.DBCache{Store: b.db, Now: o.Now}
		cfg.Lease, cfg.Holder = b.db, fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(r))
		b.tlsCache = "the database (shared by the replicas)"
	} else {
		// autocert creates it owner-only (0700), its files 0600: the
		// certificate's private key is among them.
		dir := filepath.Join(b.cfg.DataDir, ACMEDir)
		cfg.Cache = autocert.DirCache(dir)
		abs, _ := filepath.Abs(dir)
		b.tlsCache = abs
	}
	b.tls = autotls.New(cfg)
	return nil
}

// tlsNotes are the banner's lines about built-in HTTPS.
func (b *backend) tlsNotes(httpsAddr, httpAddr string) []string {
	return []string{
		fmt.Sprintf("HTTPS:      %s on %s; HTTP on %s answers the CA and redirects to HTTPS", b.cfg.TLS.Domain, displayAddr(httpsAddr), displayAddr(httpAddr)),
		fmt.Sprintf("Certificate: from %s, kept in %s; its state is in /readyz under tls (also over plain HTTP)", b.cfg.TLS.DirectoryURL, b.tlsCache),
	}
}
