package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/serve"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// statusByCode is the one place where error codes meet HTTP statuses.
var statusByCode = map[mgm.Code]int{
	mgm.CodeInvalidPayload:                 http.StatusBadRequest,
	mgm.CodeInvalidCharacterName:           http.StatusBadRequest,
	mgm.CodeOutOfSequence:                  http.StatusBadRequest,
	mgm.CodeUnauthorized:                   http.StatusUnauthorized,
	mgm.CodeInvalidSignature:               http.StatusUnauthorized,
	mgm.CodeStaleMessage:                   http.StatusUnauthorized,
	mgm.CodeNotSubscriber:                  http.StatusForbidden,
	mgm.CodeBanned:                         http.StatusForbidden,
	mgm.CodeForbiddenAPIKey:                http.StatusForbidden,
	mgm.CodeIdentityNotShared:              http.StatusForbidden,
	mgm.CodeWrongChannel:                   http.StatusForbidden,
	mgm.CodeNotFound:                       http.StatusNotFound,
	mgm.CodeNotInPool:                      http.StatusNotFound,
	mgm.CodeNoDrawProof:                    http.StatusNotFound,
	mgm.CodeDrawProofExpired:               http.StatusGone,
	mgm.CodeDrawNotRevealed:                http.StatusConflict,
	ebsapi.CodeMethodNotAllowed:            http.StatusMethodNotAllowed,
	mgm.CodeDuplicateEnrollment:            http.StatusConflict,
	mgm.CodeActivePayoutExists:             http.StatusConflict,
	mgm.CodeLifetimeCapReached:             http.StatusConflict,
	mgm.CodeCharacterNameTakenInPool:       http.StatusConflict,
	mgm.CodeTerminalStatusChange:           http.StatusConflict,
	mgm.CodeInvalidState:                   http.StatusConflict,
	mgm.CodeGiftAlreadyUsed:                http.StatusConflict,
	mgm.CodeGiftRequestActive:              http.StatusConflict,
	ebsapi.CodePayloadTooLarge:             http.StatusRequestEntityTooLarge,
	ebsapi.CodeUnsupportedMediaType:        http.StatusUnsupportedMediaType,
	ebsapi.CodeRateLimited:                 http.StatusTooManyRequests,
	ebsapi.CodeMalformedRequest:            http.StatusBadRequest,
	ebsapi.CodeHeadersTooLarge:             http.StatusRequestHeaderFieldsTooLarge,
	ebsapi.CodeExpectationFailed:           http.StatusExpectationFailed,
	ebsapi.CodeUnsupportedTransferEncoding: http.StatusNotImplemented,
	ebsapi.CodeHTTPVersionNotSupported:     http.StatusHTTPVersionNotSupported,
	mgm.CodeUnavailable:                    http.StatusServiceUnavailable,
	mgm.CodeInternal:                       http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for an error code.
func StatusOf(code mgm.Code) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// writeError answers with the standard error shape. Errors that are not
// domain errors are ours: they are logged with the request id and the client
// sees only "internal".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var de *mgm.Error
	if errors.Is(err, store.ErrUnavailable) && !errors.As(err, &de) {
		// An outage, not our bug and not the client's: 503 says "try again".
		s.log.WarnContext(r.Context(), "request failed: the database is unavailable", "request_id", requestID(r), "route", routeOf(r), "error", err)
		de = mgm.Errorf(mgm.CodeUnavailable, "The database is unavailable right now; try again in a moment.")
	}
	if de == nil && !errors.As(err, &de) {
		s.log.ErrorContext(r.Context(), "request failed", "request_id", requestID(r), "route", routeOf(r), "error", err)
		de = mgm.Errorf(mgm.CodeInternal, "Something went wrong on our side; the request id identifies it in our logs.")
	}
	status := StatusOf(de.Code)
	if status == http.StatusUnauthorized && de.Code == mgm.CodeUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	details := de.Details
	if details == nil {
		details = map[string]any{}
	}
	serve.JSON(w, status, ebsapi.ErrorBody{Code: de.Code, Message: de.Message, Details: details})
}

// decodeJSON reads a JSON body into v: size-limited, one value, unknown
// fields ignored, with client mistakes reported as domain errors.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
			return mgm.Errorf(ebsapi.CodeUnsupportedMediaType, "Send the body as application/json.")
		}
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return mgm.Errorf(mgm.CodeInvalidPayload, "The body must hold exactly one JSON value.")
	}
	return nil
}

func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return mgm.Errorf(ebsapi.CodePayloadTooLarge, "The body is larger than %d bytes.", mbe.Limit)
	case errors.Is(err, io.EOF):
		return mgm.Errorf(mgm.CodeInvalidPayload, "The body is empty; send a JSON object.")
	case errors.As(err, &typeErr):
		return mgm.Errorf(mgm.CodeInvalidPayload, "Field %q has the wrong type.", typeErr.Field)
	default:
		return mgm.Errorf(mgm.CodeInvalidPayload, "The body is not valid JSON.")
	}
}
