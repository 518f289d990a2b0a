// Package pgtest gives tests a fresh PostgreSQL database of their own on the
// real server.
//
// The server is found through MGM_TEST_POSTGRES (a pgx connection string for
// an administrative database; default postgres://postgres@127.0.0.1:5432/postgres).
// When it cannot be reached the test is skipped with a message saying so —
// unless MGM_REQUIRE_POSTGRES=1, as CI sets, in which case it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultAdminDSN is used when MGM_TEST_POSTGRES is not set.
const DefaultAdminDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var (
	probeOnce sync.Once
	probeErr  error
)

// AdminDSN returns the administrative connection string.
func AdminDSN() string {
	if v := os.Getenv("MGM_TEST_POSTGRES"); v != "" {
		return v
	}
	return DefaultAdminDSN
}

// Required reports whether PostgreSQL tests must run (CI).
func Required() bool { return os.Getenv("MGM_REQUIRE_POSTGRES") == "1" }

// Available skips (or, when required, fails) the test if the server cannot be reached.
func Available(t testing.TB) {
	t.Helper()
	probeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, AdminDSN())
		if err != nil {
			probeErr = err
			return
		}
		probeErr = conn.Ping(ctx)
		_ = conn.Close(ctx) // the probe's answer is in probeErr
	})
	if probeErr == nil {
		return
	}
	msg := fmt.Sprintf("PostgreSQL not reachable at MGM_TEST_POSTGRES (%s): %v", redacted(AdminDSN()), probeErr)
	if Required() {
		t.Fatalf("%s; MGM_REQUIRE_POSTGRES=1, so this is a failure", msg)
	}
	t.Skipf("skipping PostgreSQL test: %s (set MGM_REQUIRE_POSTGRES=1 to make this fail)", msg)
}

// NewDatabase creates an empty database for this test, drops it when the test
// ends, and returns its connection string.
func NewDatabase(t testing.TB) string {
	t.Helper()
	Available(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, AdminDSN())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() { _ = admin.Close(ctx) }() // an admin session: nothing to lose
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "mgm_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, AdminDSN())
		if err != nil {
			t.Logf("drop %s: %v", name, err)
			return
		}
		defer func() { _ = c.Close(ctx) }()
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	cfg, err := pgx.ParseConfig(AdminDSN())
	if err != nil {
		t.Fatalf("parse MGM_TEST_POSTGRES: %v", err)
	}
	u := url.URL{Scheme: "postgres", Host: fmt.Sprintf("%s:%d", cfg.Host, cfg.Port), Path: "/" + name}
	if cfg.Password != "" {
		u.User = url.UserPassword(cfg.User, cfg.Password)
	} else {
		u.User = url.User(cfg.User)
	}
	u.RawQuery = "sslmode=disable"
	return u.String()
}

func redacted(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "unparseable"
	}
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
