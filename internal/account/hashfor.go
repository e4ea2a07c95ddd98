package account

// HashFor returns the stored form of password under p, for tools that write
// credentials in bulk (the benchmark's generated directory); accounts created through
// the service get theirs from SetPassword or Activate.
func HashFor(password string, p ArgonParams) string { return hashPassword(password, p) }
