package runner

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/trackerbench/tracker/bench"
)

// ClassClientResource is the error class of a request that failed for want of a resource
// on the client (file descriptors, ephemeral ports, buffers): the client's failure, never
// the endpoint's, and in no statistic (bench.OutcomeOf).
const ClassClientResource = bench.ClassClientResource

// fileReserve is the descriptors kept for everything but request sockets: the database
// and its WAL, the terminal, the tokenizer, idle connections being replaced.
const fileReserve = 64

// isClientResourceError reports whether err is the client running out of a resource.
func isClientResourceError(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.EADDRNOTAVAIL} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// checkFileLimit raises the soft RLIMIT_NOFILE to the hard limit and refuses a plan whose
// requests in flight (one socket each) cannot fit under it. An open loop with no cap has
// no static bound: its EMFILE failures are recorded as ClassClientResource.
func (p *Plan) checkFileLimit() error {
	inFlight := 0
	for _, l := range p.Loads {
		inFlight = max(inFlight, l.Concurrency)
	}
	if p.Sweep != nil {
		inFlight = max(inFlight, p.Sweep.MaxConcurrency)
	}
	if p.Order == bench.OrderConcurrent {
		inFlight *= len(p.Endpoints)
	}
	limit, err := raiseFileLimit()
	if err != nil || limit == 0 {
		return nil // unknown limit: nothing to check against
	}
	if need := uint64(inFlight) + fileReserve; need > limit {
		return fmt.Errorf("%w: %d requests in flight need about %d open files, and this process may open %d "+
			"(the hard limit, `ulimit -Hn`): lower --concurrency or raise the limit", ErrPlan, inFlight, need, limit)
	}
	return nil
}
