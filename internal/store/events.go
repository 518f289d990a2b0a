package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Event is one entry of the append-only audit log.
type Event struct {
	StreamID string
	Version  int
	Type     string
	Data     json.RawMessage
	At       time.Time
}

// AppendEvent adds an event at the end of its stream. The (stream, version)
// key makes a lost or interleaved append impossible: two writers cannot both
// take the same version.
func (tx *Tx) AppendEvent(ctx context.Context, streamID, eventType string, data any, at time.Time) error {
	if data == nil {
		data = struct{}{}
	}
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", eventType, err)
	}
	_, err = tx.exec(ctx, `INSERT INTO events (stream_id, version, type, data, at)
		VALUES (?, (SELECT COALESCE(MAX(version), 0) + 1 FROM events WHERE stream_id = ?), ?, ?, ?)`,
		streamID, streamID, eventType, string(b), tx.d.Time(at))
	if err != nil {
		return fmt.Errorf("append %s event: %w", eventType, err)
	}
	return nil
}

// NewEvent is one event for AppendEventsStatement.
type NewEvent struct {
	StreamID string
	Type     string
	Data     any
	At       time.Time
}

// AppendEventsStatement appends events to distinct streams in one statement
// of InTxSteps (a group commit's events; one stream twice would get one
// version twice, which the unique (stream, version) key refuses).
func (db *DB) AppendEventsStatement(evs []NewEvent) (Statement, error) {
	return appendEventsStatement(db.d, evs)
}

func appendEventsStatement(d Dialect, evs []NewEvent) (Statement, error) {
	if len(evs) == 0 {
		return Statement{}, nil
	}
	datas := make([]string, len(evs))
	for i, e := range evs {
		data := e.Data
		if data == nil {
			data = struct{}{}
		}
		b, err := json.Marshal(data)
		if err != nil {
			return Statement{}, fmt.Errorf("encode %s event: %w", e.Type, err)
		}
		datas[i] = string(b)
	}
	if arrayParams(d) {
		streams, types, ats := make([]string, len(evs)), make([]string, len(evs)), make([]time.Time, len(evs))
		for i, e := range evs {
			streams[i], types[i], ats[i] = e.StreamID, e.Type, e.At
		}
		return Statement{Query: `INSERT INTO events (stream_id, version, type, data, at)
			SELECT s, (SELECT COALESCE(MAX(version), 0) + 1 FROM events WHERE stream_id = s), ty, da::jsonb, at
			FROM unnest(?::text[], ?::text[], ?::text[], ?::timestamptz[]) AS t(s, ty, da, at)`,
			Args: []any{streams, types, datas, times(d, ats)}}, nil
	}
	var q strings.Builder
	args := make([]any, 0, 5*len(evs))
	q.WriteString(`INSERT INTO events (stream_id, version, type, data, at) VALUES `)
	for i, e := range evs {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(`(?, (SELECT COALESCE(MAX(version), 0) + 1 FROM events WHERE stream_id = ?), ?, ?, ?)`)
		args = append(args, e.StreamID, e.StreamID, e.Type, datas[i], d.Time(e.At))
	}
	return Statement{Query: q.String(), Args: args}, nil
}

// Events returns a stream's events, oldest first.
func (tx *Tx) Events(ctx context.Context, streamID string) ([]Event, error) {
	rows, err := tx.query(ctx, `SELECT stream_id, version, type, data, at FROM events
		WHERE stream_id = ? ORDER BY version`, streamID)
	return collect(rows, err, func(row scanner) (Event, error) {
		var e Event
		var data string
		var at Time
		err := row.Scan(&e.StreamID, &e.Version, &e.Type, &data, &at)
		e.Data, e.At = json.RawMessage(data), at.Time
		return e, err
	})
}
