package aaf

// SetAfterPrescan makes f run between the prescan of a full export and its
// transaction, until the returned function is called.
func SetAfterPrescan(f func()) (reset func()) {
	afterPrescan = f
	return func() { afterPrescan = nil }
}
