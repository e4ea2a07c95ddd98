package aaf

import (
	"context"

	"github.com/preau-ent/preau/internal/platform/db"
)

// SetAfterPrescan makes f run between the prescan of a full export and its
// transaction, until the returned function is called.
func SetAfterPrescan(f func()) (reset func()) {
	afterPrescan = f
	return func() { afterPrescan = nil }
}

// SetKeysHook makes f run in a first import's transaction on PostgreSQL, before
// ("avant") and after ("après") the check of its foreign keys, until the returned
// function is called.
func SetKeysHook(f func(ctx context.Context, q db.Querier, when string) error) (reset func()) {
	old := keysHook
	keysHook = f
	return func() { keysHook = old }
}
