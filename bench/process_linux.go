package bench

import (
	"os/exec"
	"syscall"
)

// setParentDeath has the kernel kill a child if the bench dies without
// cleaning up, so that no hookd is left running on its own.
func setParentDeath(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
