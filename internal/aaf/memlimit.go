package aaf

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// importHeadroom is how much memory an import may take beyond what the process held
// when it started, before the garbage collector works harder to stay under it.
// A million-person import keeps about 200 MiB alive (the index of persons, the
// logins) and makes as much garbage again reading the files: with Go's default
// pacing its heap would reach twice what is alive, with this limit it stays near it.
const importHeadroom = 256 << 20

var memLimit struct {
	sync.Mutex
	imports int   // under way in this process
	set     bool  // the limit is ours (GOMEMLIMIT was not set)
	prev    int64 // the limit before the first of them
}

// limitMemory sets a soft memory limit for the length of an import (none when the
// operator set one with GOMEMLIMIT), and returns the function that lifts it.
// Imports running at once share the first one's limit.
func limitMemory() func() {
	memLimit.Lock()
	defer memLimit.Unlock()
	memLimit.imports++
	if memLimit.imports == 1 {
		memLimit.prev = debug.SetMemoryLimit(-1)
		memLimit.set = memLimit.prev == math.MaxInt64
		if memLimit.set {
			debug.SetMemoryLimit(int64(goMemory()) + importHeadroom)
		}
	}
	return func() {
		memLimit.Lock()
		defer memLimit.Unlock()
		memLimit.imports--
		if memLimit.imports == 0 && memLimit.set {
			debug.SetMemoryLimit(memLimit.prev)
		}
	}
}

// goMemory is the memory the Go runtime holds from the system and has not given back.
func goMemory() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}
