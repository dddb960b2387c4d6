//go:build !unix

package runner

// idleConnAlive cannot look without a non-blocking peek: a closed idle connection then
// shows as a stale one when used, and the request is replayed (conn.go).
func idleConnAlive(*h1Conn) bool { return true }
