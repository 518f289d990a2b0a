// Package auth authenticates the EBS's callers: viewers (Twitch extension JWTs,
// see ViewerVerifier) and the Desktop (X-MGM-ApiKey, see APIKeys). It also
// issues Twitch-shaped extension tokens (SignViewerToken) for the JWT stand-in
// and for tests.
//
// Errors are *mgm.Error values with the codes the HTTP layer maps to statuses:
// unauthorized (401), wrong_channel (403), forbidden_apikey (403). Messages are
// generic and never contain the presented token or key.
package auth
