package messaging

// SetAfterCopies installs the hook that runs after each statement making recipient
// copies, so that tests can interrupt a send half-way.
func SetAfterCopies(s *Service, f func(statement int) error) { s.afterCopies = f }
