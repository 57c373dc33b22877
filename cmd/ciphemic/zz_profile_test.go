package main

import (
	"os"
	"os/exec"
	"testing"
)

func TestZZProfileServe(t *testing.T) {
	if os.Getenv("ZZPROF") == "" {
		t.Skip()
	}
	s := startServer(t, "", "--login-throttle=false", "--log-format", "json")
	access, _ := mustLogin(t, s, "admin", s.adminPW)
	os.WriteFile("/tmp/get.lua", []byte(`wrk.headers["Authorization"] = "Bearer `+access+`"`+"\n"), 0o644)
	out, err := exec.Command("wrk", "-t1", "-c16", "-d8s", "-s", "/tmp/get.lua", s.url+"/api/me/").CombinedOutput()
	t.Logf("%s %v", out, err)
}
