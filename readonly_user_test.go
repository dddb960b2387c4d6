package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/trackerbench/tracker/internal/testenv"
)

// Read-only commands work on a database that another user owns in a folder this user may
// not write (no -shm can be made there): as SQLite needs one for a WAL database, tracker opens
// such a file immutable when it has no write-ahead log with content. Runs only as root, which
// can switch to the unprivileged user nobody (CI runs as root).
func TestReadOnlyCommandsOnAnotherUsersDatabase(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "needs root to run a command as another user")
	}
	db := recordedDB(t)
	shared := mkdirMode(t, 0o755)
	owned := filepath.Join(shared, "db")
	if err := os.Mkdir(owned, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(owned, "t.db")
	copyFile(t, db, path, 0o444)
	if err := os.Chmod(owned, 0o555); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(shared, "tracker.test")
	copyFile(t, self, bin, 0o755)
	before := fileHash(t, path)
	for _, args := range [][]string{
		{"--db", path, "query", "SELECT count(*) AS n FROM requests"},
		{"--db", path, "runs"},
	} {
		out, errOut, code := runAsNobody(t, bin, shared, args)
		if code != 0 {
			t.Errorf("%v as nobody: exit %d: %s", args, code, errOut)
		}
		if args[2] == "query" && !strings.Contains(out, "2") {
			t.Errorf("query as nobody printed %q, want the 2 recorded requests", out)
		}
	}
	if fileHash(t, path) != before {
		t.Error("a read-only command changed the database file")
	}
	if entries, _ := os.ReadDir(owned); len(entries) != 1 {
		t.Errorf("the read-only folder now holds %d files, want only the database", len(entries))
	}
}

func runAsNobody(t *testing.T, bin, dir string, args []string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := trackerCommand(bin, args)
	cmd.Dir = dir
	cmd.Env = append(cmd.Env, "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s as nobody: %v", bin, err)
	}
	return out.String(), errb.String(), 0
}

// mkdirMode makes a temporary folder with the given mode (t.TempDir's are 0700, closed to
// other users) and removes it at the end.
func mkdirMode(t *testing.T, mode os.FileMode) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tracker-other-user-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(dir)
	})
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
