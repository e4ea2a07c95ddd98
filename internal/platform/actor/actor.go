// Package actor names who is acting: every service method takes one and decides
// itself what that actor may do.
package actor

import "errors"

// Actor is the person (or the system) behind a call.
type Actor struct {
	PersonID string
	Login    string
	Profile  string
	IP       string
	// System is set for the command line and scheduled jobs run by the operator of
	// the deployment; it passes every authorization check and is audited as "système".
	System bool
}

// System returns the actor for operator commands.
func System(name string) Actor { return Actor{Login: "système:" + name, System: true} }

// ErrForbidden is returned by services when the actor may not do what it asked.
var ErrForbidden = errors.New("action non autorisée")

// ErrNotFound is returned for unknown ids, and for ids the actor may not know of.
var ErrNotFound = errors.New("introuvable")

// InvalidError reports bad input: Field names the form field, Message is the key of
// a French-first message in the i18n catalog.
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Message }

// Invalid returns an *InvalidError.
func Invalid(field, message string) error { return &InvalidError{Field: field, Message: message} }
