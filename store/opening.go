package store

import "context"

// Opening is a database being opened (created and migrated if need be) in the background,
// while its caller does other work that takes CPU too: `tracker run` prepares its prompts
// (the tokenizer's vocabulary) as SQLite parses the schema, on a second core. A caller that
// stops before using it Discards it, and nothing is recorded in it.
type Opening struct {
	done chan struct{}
	db   *DB
	err  error
}

// OpenInBackground starts Open(ctx, path, schema) on its own goroutine.
func OpenInBackground(ctx context.Context, path, schema string) *Opening {
	o := &Opening{done: make(chan struct{})}
	go func() {
		defer close(o.done)
		o.db, o.err = Open(ctx, path, schema)
	}()
	return o
}

// Wait returns the opened database, or why it could not be opened.
func (o *Opening) Wait() (*DB, error) {
	<-o.done
	return o.db, o.err
}

// Discard waits for the open to end and closes the database if it opened.
func (o *Opening) Discard() {
	if db, err := o.Wait(); err == nil {
		db.Close()
	}
}
