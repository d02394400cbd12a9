package egress_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/egress"
)

func ExampleCheckURL() {
	ctx := context.Background()
	for _, raw := range []string{
		"https://93.184.216.34/hooks/alakazam",
		"http://93.184.216.34/hooks/alakazam",
		"https://169.254.169.254/latest/meta-data/",
	} {
		err := egress.CheckURL(ctx, "url", raw, false, nil)
		fmt.Printf("%s: %q\n", hookd.ErrorCode(err), hookd.ErrorMessage(err))
	}
	// Output:
	// : ""
	// BAD_REQUEST: "url must be https"
	// BAD_REQUEST: "url must not point to a private, loopback or link-local address"
}

func ExampleBlocked() {
	for _, s := range []string{"93.184.216.34", "10.0.0.1", "::ffff:127.0.0.1", "fd00:ec2::254"} {
		fmt.Println(s, egress.Blocked(netip.MustParseAddr(s)))
	}
	// Output:
	// 93.184.216.34 false
	// 10.0.0.1 true
	// ::ffff:127.0.0.1 true
	// fd00:ec2::254 true
}

// A delivery: one shared client, the first 4 KiB of the answer kept for the
// attempt's log, a refused address recorded as such. (Not run: it would
// reach the network.)
func ExampleNewClient() {
	client, err := egress.NewClient(egress.Config{})
	if err != nil {
		fmt.Println("config:", err)
		return
	}
	resp, err := client.Post("https://example.com/webhooks", "application/json", strings.NewReader(`{"type":"ping"}`))
	if err != nil {
		// errors.Is(err, egress.ErrBlockedAddress) tells a refused address
		// from a network failure.
		fmt.Println("attempt failed:", err)
		return
	}
	defer resp.Body.Close()
	body, _ := egress.ReadCapped(resp.Body, 4096)
	fmt.Println(resp.StatusCode, body)
}
