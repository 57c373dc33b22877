package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/username"
)

// nameIndex finds the stored users an imported username may name: those whose username
// has its NFKC form. Usernames are stored in NFKC now, but one stored before (imported
// earlier, or created by an older ciphemic) may not be, and no SQL index can answer an
// NFKC question, so an import reads every username once.
type nameIndex struct {
	byForm  map[string][]storedName // NFKC form → the users whose username has it
	written map[int64]bool          // users an earlier record of this import wrote
}

// storedName is one user's id and username as stored.
type storedName struct {
	id       int64
	username string
}

// readNamesTx indexes every username in the store.
func readNamesTx(ctx context.Context, tx *sql.Tx) (nameIndex, error) {
	ix := nameIndex{byForm: map[string][]storedName{}, written: map[int64]bool{}}
	rows, err := tx.QueryContext(ctx, `SELECT id, username FROM users ORDER BY id`)
	if err != nil {
		return ix, err
	}
	defer rows.Close()
	for rows.Next() {
		var n storedName
		if err := rows.Scan(&n.id, &n.username); err != nil {
			return ix, err
		}
		form := username.Normalize(n.username)
		ix.byForm[form] = append(ix.byForm[form], n)
	}
	return ix, rows.Err()
}

// match returns the user an imported record (its username as typed in the dump, that
// name's NFKC form, its pk) updates, found false for a new user. It is the one user
// holding the form, when that user's username is the record's exactly (as before names
// were normalised: a name stored as the dump spells it), or is the form and has the
// record's pk (the record's own earlier import, normalised). Any other user holding the
// form is a different account that merely looks the same, and two records of one import
// never write one user: either is a CodeConflict naming both, never a silent merge.
func (ix nameIndex) match(typed, form string, pk int64) (id int64, found bool, err error) {
	holders := ix.byForm[form]
	if len(holders) == 0 {
		return 0, false, nil
	}
	if h := holders[0]; len(holders) == 1 && !ix.written[h.id] &&
		(h.username == typed || h.username == form && pk > 0 && h.id == pk) {
		return h.id, true, nil
	}
	return 0, false, ix.lookalikeError(holders)
}

// wrote records that the import gave user id the username form.
func (ix nameIndex) wrote(id int64, form string) {
	holders := ix.byForm[form]
	for i, h := range holders {
		if h.id == id {
			holders[i].username = form
			ix.written[id] = true
			return
		}
	}
	ix.byForm[form] = append(holders, storedName{id: id, username: form})
	ix.written[id] = true
}

// lookalikeError names the users whose usernames an imported one is NFKC-equal to.
func (ix nameIndex) lookalikeError(holders []storedName) error {
	names := make([]string, len(holders))
	for i, h := range holders {
		names[i] = fmt.Sprintf("%q, the username of user %d", h.username, h.id)
		if ix.written[h.id] {
			names[i] = fmt.Sprintf("%q, the username an earlier record of this import gave user %d", h.username, h.id)
		}
	}
	return ciphemic.Errorf(ciphemic.CodeConflict, "username is NFKC-equal to %s", strings.Join(names, ", and to "))
}
