package token

import (
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics and accepts nothing it did not sign: whenever
// it accepts a token, the token's signed part (header and payload) must be that of a token
// the test's own services issued. The services share no key with the fuzzer.
func FuzzParse(f *testing.F) {
	signed := map[string]bool{} // header.payload of every token issued here
	var services []*Service
	for _, alg := range allAlgs {
		s := mustService(f, testConfig(), mustKey(f, alg, 0))
		services = append(services, s)
		access, _ := mustIssueAccess(f, s, t0)
		refresh, _ := mustIssueRefresh(f, s, t0)
		for _, raw := range []string{access, refresh} {
			signed[raw[:strings.LastIndexByte(raw, '.')]] = true
			f.Add(raw)
			f.Add(raw[:strings.LastIndexByte(raw, '.')+1])
		}
		f.Add(seg(`{"alg":"none","typ":"JWT"}`) + "." + strings.Split(access, ".")[1] + ".")
	}
	for _, seed := range []string{
		"", "garbage", "..", "a.b.c", "e30.e30.", "e30.e30.e30", strings.Repeat("A", 9000),
		seg(`{"alg":"HS256","alg":"none"}`) + "." + seg(payload()) + ".",
		seg(`{"alg":"HS256","crit":["x"]}`) + "." + seg(payload()) + ".AAAA",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, s := range services {
			for _, want := range []string{"", TypeAccess, TypeRefresh} {
				c, err := s.Parse(raw, want)
				if err != nil {
					continue
				}
				dot := strings.LastIndexByte(raw, '.')
				if dot < 0 || !signed[raw[:dot]] {
					t.Fatalf("Parse(%q) accepted a token this test never issued: %+v", raw, c)
				}
			}
		}
	})
}
