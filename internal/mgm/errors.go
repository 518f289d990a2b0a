package mgm

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code. Clients (the panel, the Desktop)
// switch on it, so existing values never change meaning. The HTTP layer maps each
// code to a status in one table. The codes here are the ones the use cases
// decide; codes only the HTTP layer produces (a wrong method, a body too large,
// a rate limit) are declared with the wire contract in package ebsapi.
type Code string

const (
	CodeInvalidPayload           Code = "invalid_payload"
	CodeInvalidCharacterName     Code = "invalid_character_name"
	CodeNotSubscriber            Code = "not_subscriber"
	CodeDuplicateEnrollment      Code = "duplicate_enrollment"
	CodeActivePayoutExists       Code = "active_payout_exists"
	CodeLifetimeCapReached       Code = "lifetime_cap_reached"
	CodeCharacterNameTakenInPool Code = "character_name_taken_in_pool"
	CodeTerminalStatusChange     Code = "terminal_status_change_not_allowed"
	CodeOutOfSequence            Code = "out_of_sequence"
	CodeInvalidState             Code = "invalid_state"
	CodeGiftAlreadyUsed          Code = "gift_already_used"
	CodeGiftRequestActive        Code = "gift_request_active"
	CodeNotFound                 Code = "not_found"
	CodeNotInPool                Code = "not_in_pool"
	// CodeDrawNotRevealed: a cycle's draw proof was asked for before the draw.
	CodeDrawNotRevealed Code = "draw_not_revealed"
	// CodeNoDrawProof: the cycle has no draw proof and never will.
	CodeNoDrawProof Code = "no_draw_proof"
	// CodeDrawProofExpired: the retention sweep removed the draw's list;
	// the details still give its commitment, list hash, size and index.
	CodeDrawProofExpired Code = "draw_proof_expired"
	// CodeBanned: the streamer banned the viewer from the pool (issue 17).
	CodeBanned            Code = "banned"
	CodeUnauthorized      Code = "unauthorized"
	CodeForbiddenAPIKey   Code = "forbidden_apikey"
	CodeIdentityNotShared Code = "identity_not_shared"
	CodeWrongChannel      Code = "wrong_channel"
	CodeInvalidSignature  Code = "invalid_signature"
	CodeStaleMessage      Code = "stale_message"
	CodeUnavailable       Code = "unavailable"
	CodeInternal          Code = "internal"
)

// Error is a domain error: a stable code and a message a human can act on.
type Error struct {
	Code    Code
	Message string
	// Details, when set, are the error body's details: what the client can
	// still use (an expired proof's summary).
	Details map[string]any
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf builds a domain error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first domain error in err's chain, or
// CodeInternal for anything else: an error we did not anticipate is our fault,
// never the client's.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsCode reports whether err carries the given domain code.
func IsCode(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
