// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the emulator test guest: report what a TDX host kernel shows
 * user space after booting on the emulated TDX module, then end the VM
 * (a reboot: QEMU runs with -no-reboot).
 *
 * Every line it prints starts with "TDXEMU: " so that the test runner
 * (tests/tdx-emu/run-emu.py) finds it in the console log:
 *
 *   TDXEMU: insn <name> <SIGILL|SIGSEGV|ok>   TDX instructions run at CPL 3
 *   TDXEMU: file <path> <first line>          tdx_host sysfs and debugfs
 *   TDXEMU: done
 *
 * At CPL 3, SEAMCALL and VMXOFF raise #UD (SIGILL) on a CPU without the
 * emulation, and #GP (SIGSEGV) on one where the kernel is in VMX root
 * operation.  Static binary, no libraries needed in the initramfs.
 *
 * The lines go to /dev/kmsg, not to the console directly: the kernel
 * prints on the same serial port (the trap of each child above, for one)
 * and could cut a line of ours in two; as log records they come out
 * whole, in order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static void run_insn(const char *name, void (*fn)(void))
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		fn();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		printf("TDXEMU: insn %s error %s\n", name, strerror(errno));
		return;
	}
	if (WIFSIGNALED(status))
		printf("TDXEMU: insn %s %s\n", name,
		       WTERMSIG(status) == SIGILL ? "SIGILL" :
		       WTERMSIG(status) == SIGSEGV ? "SIGSEGV" : "other-signal");
	else
		printf("TDXEMU: insn %s ok\n", name);
}

static void seamcall(void)
{
	asm volatile(".byte 0x66, 0x0f, 0x01, 0xcf" ::: "memory", "cc");
}

static void vmxoff(void)
{
	asm volatile(".byte 0x0f, 0x01, 0xc4" ::: "memory", "cc");
}

static void print_file(const char *path)
{
	char line[512] = "";
	FILE *f = fopen(path, "r");

	if (!f) {
		printf("TDXEMU: file %s <%s>\n", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		printf("TDXEMU: file %s %s\n", path, line);
	}
	fclose(f);
}

static void print_dir(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	char path[1024];
	struct stat st;

	if (!d) {
		printf("TDXEMU: dir %s <%s>\n", dir, strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			print_file(path);
	}
	closedir(d);
}

/* Make stdout the kernel log, unlimited; stay on the console otherwise. */
static void to_kmsg(void)
{
	int fd, sysctl;

	mkdir("/dev", 0755);
	mknod("/dev/kmsg", S_IFCHR | 0600, makedev(1, 11));
	fd = open("/dev/kmsg", O_WRONLY);
	if (fd < 0)
		return;
	/* user space writes are rate limited to 10 lines per 5 s by default */
	sysctl = open("/proc/sys/kernel/printk_devkmsg", O_WRONLY);
	if (sysctl < 0 || write(sysctl, "on\n", 3) != 3) {
		if (sysctl >= 0)
			close(sysctl);
		close(fd);
		return;
	}
	close(sysctl);
	dup2(fd, STDOUT_FILENO);
	close(fd);
}

int main(void)
{
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	to_kmsg();
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("TDXEMU: begin\n");
	run_insn("seamcall", seamcall);
	run_insn("vmxoff", vmxoff);
	print_dir("/sys/devices/faux/tdx_host");
	print_dir("/sys/devices/faux/tdx_host/pamt");
	print_dir("/sys/kernel/debug/tdx_pamt");
	print_file("/sys/devices/system/node/online");
	printf("TDXEMU: done\n");
	fflush(stdout);
	sync();
	/* QEMU runs with -no-reboot; power-off would need ACPI, which qboot lacks */
	reboot(RB_AUTOBOOT);
	return 0;
}
