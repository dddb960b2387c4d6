package store

import (
	"net/url"
	"strconv"
	"strings"
)

// dialect is the SQL database a DB talks to. The store's queries are written once, in SQL both
// accept (placeholders as "?" or "?N", RETURNING, ON CONFLICT, COUNT(*) FILTER, IS NOT DISTINCT
// FROM); a dialect supplies what cannot be written once: the schema and its version, how times
// order, index hints, row locks, and read-only mode.
type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

func (d dialect) String() string {
	if d == dialectPostgres {
		return "postgres"
	}
	return "sqlite"
}

// timeValue is an expression that orders and compares the RFC 3339 text in expr as a time.
func (d dialect) timeValue(expr string) string {
	if d == dialectPostgres {
		return "(" + expr + ")::timestamptz"
	}
	return "julianday(" + expr + ")"
}

// indexedBy is SQLite's index hint after a table reference (nothing on PostgreSQL, which
// has no hints and plans the same join by itself).
func (d dialect) indexedBy(index string) string {
	if d == dialectPostgres {
		return ""
	}
	return " INDEXED BY " + index
}

// forUpdate locks the rows a SELECT in a write transaction reads, so a read-then-write (a
// lease) is not raced by another process: PostgreSQL needs FOR UPDATE; SQLite's write
// transactions are IMMEDIATE and hold the database's write lock already.
func (d dialect) forUpdate() string {
	if d == dialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// hasColumn is a query counting the columns named column of table (0 or 1).
func (d dialect) hasColumn(table, column string) string {
	if d == dialectPostgres {
		return `SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema()
			AND table_name = '` + table + `' AND column_name = '` + column + `'`
	}
	return `SELECT COUNT(*) FROM pragma_table_info('` + table + `') WHERE name = '` + column + `'`
}

// IsPostgresURL reports whether a --db value names a PostgreSQL database (postgres:// or
// postgresql://) rather than an SQLite file.
func IsPostgresURL(s string) bool {
	lower := strings.ToLower(strings.TrimSpace(s))
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// redactedURL is a PostgreSQL URL fit to print: no password (in the user part or as a
// password/sslpassword parameter) and no other secret-bearing parameter value. A URL that
// does not parse is not repeated at all.
func redactedURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "postgres://(unparsable URL, not shown)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	for k := range q {
		if secretParam(k) {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// secretParam reports a connection parameter whose value is a secret.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "password") || n == "sslkey" || strings.Contains(n, "secret") || strings.Contains(n, "token")
}

// rebind turns SQLite's placeholders into PostgreSQL's: "?N" becomes "$N" and each bare "?"
// the next "$N". Quoted strings, quoted identifiers and comments are left as they are.
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := quotedEnd(query, i)
			b.WriteString(query[i:j])
			i = j
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			j := strings.Index(query[i+2:], "*/")
			end := len(query)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(query[i:end])
			i = end
		case c == '?':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(query[i+1 : j])
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}
