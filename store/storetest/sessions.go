package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func testSessions(t *testing.T, open opener) {
	run(t, open, "CreateFindDeleteExpire", func(f *fixture) {
		app := f.newApp()
		link := &hookd.Session{Hash: "link-" + f.id("h"), Kind: hookd.SessionLink, AppID: app.ID, Credential: "by-admin",
			CreatedAt: at(0), ExpiresAt: at(time.Hour)}
		admin := &hookd.Session{Hash: "admin-" + f.id("h"), Kind: hookd.SessionBrowser, Admin: true, Credential: "admin-hash",
			CreatedAt: at(0), ExpiresAt: at(12 * time.Hour)}
		portal := &hookd.Session{Hash: "portal-" + f.id("h"), Kind: hookd.SessionBrowser, AppID: app.ID, Credential: link.Hash,
			CreatedAt: at(time.Second), ExpiresAt: link.ExpiresAt}
		for _, se := range []*hookd.Session{link, admin, portal} {
			f.must(f.st.CreateSession(f.ctx, se), "create session %s", se.Hash)
		}
		wantCode(f, f.st.CreateSession(f.ctx, &hookd.Session{Hash: link.Hash, Kind: hookd.SessionLink, Credential: "x", CreatedAt: at(0), ExpiresAt: at(time.Hour)}),
			hookd.ECONFLICT, "create a session with a hash kept already")
		for _, want := range []*hookd.Session{link, admin, portal} {
			got, err := f.st.SessionByHash(f.ctx, want.Hash)
			f.must(err, "find session %s", want.Hash)
			if *got != *want {
				f.Errorf("session %s = %+v, want %+v", want.Hash, *got, *want)
			}
		}
		_, err := f.st.SessionByHash(f.ctx, "unknown")
		wantCode(f, err, hookd.ENOTFOUND, "find an unknown session")

		f.must(f.st.DeleteSession(f.ctx, admin.Hash), "delete session")
		_, err = f.st.SessionByHash(f.ctx, admin.Hash)
		wantCode(f, err, hookd.ENOTFOUND, "find a deleted session")
		wantCode(f, f.st.DeleteSession(f.ctx, admin.Hash), hookd.ENOTFOUND, "delete a session twice")

		n, err := f.st.DeleteExpiredSessions(f.ctx, at(time.Hour-time.Second))
		f.must(err, "delete expired sessions before any expired")
		if n != 0 {
			f.Errorf("deleted %d sessions before any expired", n)
		}
		n, err = f.st.DeleteExpiredSessions(f.ctx, at(time.Hour))
		f.must(err, "delete expired sessions")
		if n != 2 {
			f.Errorf("deleted %d expired sessions, want 2 (the link and its session)", n)
		}
		_, err = f.st.SessionByHash(f.ctx, portal.Hash)
		wantCode(f, err, hookd.ENOTFOUND, "find an expired session after the sweep")
	})
}
