package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/token"
)

// importTokensSettings are the flags of `ciphemic import-tokens`.
type importTokensSettings struct {
	store          storeSettings
	django         string
	signingKeyFile string
	algorithm      string
}

func (s *importTokensSettings) register(fs *flag.FlagSet) {
	s.store.register(fs)
	fs.StringVar(&s.django, "django", "", "`FILE` of JSON written by Django's manage.py dumpdata token_blacklist (required)")
	fs.StringVar(&s.signingKeyFile, "signing-key-file", "", "Django's signing key (SIMPLE_JWT[\"SIGNING_KEY\"], by default its SECRET_KEY), the file serve is given: verifies the tokens simplejwt recorded without a user (required when the dump has such a token)")
	fs.StringVar(&s.algorithm, "algorithm", "HS256", "signing algorithm of the key (SIMPLE_JWT[\"ALGORITHM\"])")
}

// runImportTokens is `ciphemic import-tokens`: it records simplejwt's refresh tokens, so
// that a refresh token a client got from Django still refreshes once on ciphemic, and one
// Django blacklisted (a logout, a rotation) stays dead; and it records the cut-over time
// (store/cutover.go). The whole file is checked first and imported in one transaction.
func runImportTokens(ctx context.Context, args []string, e env) error {
	var s importTokensSettings
	fs := newFlagSet("import-tokens")
	s.register(fs)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	if s.django == "" {
		return invalid("django", "required: the file of `manage.py dumpdata token_blacklist`")
	}
	data, err := os.ReadFile(s.django)
	if err != nil {
		return invalid("django", "cannot read it: %v", err)
	}
	now := time.Now()
	verify, err := s.verifier(now)
	if err != nil {
		return err
	}
	tokens, err := parseDjangoTokens(data, verify, now)
	if err != nil {
		if errors.Is(err, errUsage) {
			return err
		}
		return fmt.Errorf("%s: %w; nothing was imported", s.django, err)
	}
	db, err := openExisting(ctx, s.store)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.ImportDjangoTokens(ctx, tokens, now)
	if err != nil {
		if ciphemic.ErrorCode(err) == ciphemic.CodeInternal {
			return fmt.Errorf("import tokens: %w", err)
		}
		return fmt.Errorf("import tokens: %s; nothing was imported", ciphemic.ErrorMessage(err))
	}
	blacklisted := 0
	for _, t := range tokens {
		if !t.BlacklistedAt.IsZero() && t.ExpiresAt.After(now) {
			blacklisted++
		}
	}
	fmt.Fprintf(e.stdout, "Imported %d refresh tokens: %d recorded, %d already known, %d expired and skipped; %d of them blacklisted.\n",
		len(tokens), res.Created, res.Updated, res.Expired, blacklisted)
	fmt.Fprintf(e.stdout, "Cut-over recorded at %s: until then plus serve's --refresh-token-lifetime, a Django refresh token issued before it that no dump holds refreshes once.\n",
		now.UTC().Format(time.RFC3339))
	return nil
}

// verifier returns the check of the token text simplejwt stored, or nil without a key.
func (s importTokensSettings) verifier(now time.Time) (*token.Service, error) {
	if s.signingKeyFile == "" {
		return nil, nil
	}
	if err := checkKeyFileMode(s.signingKeyFile); err != nil {
		return nil, err
	}
	keys, err := token.LoadKeySet(s.signingKeyFile, s.algorithm, now, token.Retirement{})
	if err != nil {
		return nil, invalid("signing-key-file", "%v", err)
	}
	tokens, err := token.NewService(keys, token.Config{AccessLifetime: time.Minute, RefreshLifetime: time.Minute,
		Now: func() time.Time { return now }, VerifiedCacheSize: -1})
	if err != nil {
		return nil, invalid("signing-key-file", "%v", err)
	}
	return tokens, nil
}

// djangoTokenRecord is one element of `dumpdata token_blacklist`.
type djangoTokenRecord struct {
	Model  string             `json:"model"`
	PK     *int64             `json:"pk"`
	Fields *djangoTokenFields `json:"fields"`
}

// djangoTokenFields are the fields of OutstandingToken and of BlacklistedToken.
type djangoTokenFields struct {
	// OutstandingToken. User is a pk, or null for a token simplejwt recorded only when
	// blacklisting it, as it does with every token a rotation handed out.
	User      json.RawMessage `json:"user"`
	JTI       *string         `json:"jti"`
	CreatedAt *string         `json:"created_at"`
	ExpiresAt *string         `json:"expires_at"`
	// Token is the token's text in an OutstandingToken, and the pk of its
	// OutstandingToken in a BlacklistedToken.
	Token         json.RawMessage `json:"token"`
	BlacklistedAt *string         `json:"blacklisted_at"`
}

// parseDjangoTokens checks the whole dump and returns its tokens, or the first problem,
// naming the record by index and pk, never quoting a token. verify checks the token text
// of a live record without a user; nil means no key was given.
func parseDjangoTokens(data []byte, verify *token.Service, now time.Time) ([]store.DjangoToken, error) {
	records, err := decodeDump(data)
	if err != nil {
		return nil, err
	}
	var tokens []store.DjangoToken
	byPK := map[int64]int{}
	type blacklisting struct {
		index, outstanding int64
		at                 time.Time
	}
	var blacklists []blacklisting
	for i, raw := range records {
		var rec djangoTokenRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, fmt.Errorf("record [%d]: %w", i, fieldTypeError(err))
		}
		if rec.PK == nil || rec.Fields == nil {
			return nil, fmt.Errorf("record [%d]: missing pk or fields", i)
		}
		f := rec.Fields
		switch rec.Model {
		case "token_blacklist.outstandingtoken":
			t, err := parseOutstanding(f, verify, now)
			if err != nil {
				return nil, fmt.Errorf("record [%d] (outstanding token pk %d): %w", i, *rec.PK, err)
			}
			byPK[*rec.PK] = len(tokens)
			tokens = append(tokens, t)
		case "token_blacklist.blacklistedtoken":
			var outstanding int64
			if err := json.Unmarshal(f.Token, &outstanding); err != nil {
				return nil, fmt.Errorf("record [%d] (blacklisted token pk %d): token: want the pk of an outstanding token", i, *rec.PK)
			}
			at, err := parseDjangoTime("blacklisted_at", f.BlacklistedAt, true)
			if err != nil {
				return nil, fmt.Errorf("record [%d] (blacklisted token pk %d): %w", i, *rec.PK, err)
			}
			blacklists = append(blacklists, blacklisting{int64(i), outstanding, at})
		default:
			return nil, fmt.Errorf("record [%d]: model is %q, want token_blacklist.outstandingtoken or token_blacklist.blacklistedtoken (dump with `manage.py dumpdata token_blacklist`)", i, rec.Model)
		}
	}
	for _, b := range blacklists {
		j, ok := byPK[b.outstanding]
		if !ok {
			return nil, fmt.Errorf("record [%d]: blacklists outstanding token pk %d, which is not in the dump", b.index, b.outstanding)
		}
		tokens[j].BlacklistedAt = b.at
	}
	return tokens, nil
}

// parseOutstanding reads one OutstandingToken.
func parseOutstanding(f *djangoTokenFields, verify *token.Service, now time.Time) (store.DjangoToken, error) {
	var t store.DjangoToken
	if f.JTI == nil || !validDjangoJTI(*f.JTI) {
		return t, fmt.Errorf("missing or malformed jti")
	}
	t.JTI = *f.JTI
	var err error
	if t.ExpiresAt, err = parseDjangoTime("expires_at", f.ExpiresAt, true); err != nil {
		return t, err
	}
	if t.IssuedAt, err = parseDjangoTime("created_at", f.CreatedAt, false); err != nil {
		return t, err
	}
	if !t.ExpiresAt.After(now) {
		return t, nil // skipped and counted by the store: nothing else of it matters
	}
	var pk *int64
	if err := json.Unmarshal(f.User, &pk); err != nil {
		return t, fmt.Errorf("user: want a user pk or null (dump without --natural-foreign)")
	}
	if pk != nil {
		t.DjangoUserID = *pk
		return t, nil
	}
	// simplejwt made this record while blacklisting a token it had never recorded: only
	// the token's own claims name its user, and only a valid signature makes them true.
	if verify == nil {
		return t, invalid("signing-key-file", "required: the dump holds tokens without a user, whose user only their signed user_id claim names")
	}
	var text string
	if err := json.Unmarshal(f.Token, &text); err != nil {
		return t, fmt.Errorf("no user, and no token text")
	}
	c, err := verify.Parse(text, token.TypeRefresh)
	switch {
	case err != nil:
		return t, fmt.Errorf("no user, and its token does not verify with --signing-key-file (%v)", err)
	case c.JTI != t.JTI:
		return t, fmt.Errorf("its token's jti is not the record's")
	}
	t.DjangoUserID = c.UserID
	if t.IssuedAt.IsZero() {
		t.IssuedAt = c.IssuedAt
	}
	return t, nil
}

// validDjangoJTI accepts what a jti may be: printable ASCII without spaces, not too long.
func validDjangoJTI(jti string) bool {
	if jti == "" || len(jti) > 64 {
		return false
	}
	for i := 0; i < len(jti); i++ {
		if jti[i] <= ' ' || jti[i] > '~' {
			return false
		}
	}
	return true
}
