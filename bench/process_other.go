//go:build !linux

package bench

import "os/exec"

// setParentDeath does nothing where the kernel offers no parent-death
// signal; the bench still kills its children when it ends normally.
func setParentDeath(cmd *exec.Cmd) {}
