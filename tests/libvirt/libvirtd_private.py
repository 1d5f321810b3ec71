# SPDX-License-Identifier: GPL-2.0
"""A private libvirtd for tests: Debian's own libvirt, none of the system's state.

libvirtd running as root keeps its configuration, state, cache and logs in fixed places
(/etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt).
So the daemon runs in a mount namespace of its own where /etc, /var and /run are
overlays whose changes land in a temporary directory: the host's files are never
written, a system libvirtd (if any) is not disturbed, and everything goes away with the
temporary directory.  In the namespace, and only there:

- /etc/libvirt/libvirtd.conf puts the sockets in the temporary directory, so that the
  tests reach this daemon (and only it) with qemu:///system?socket=...;
- /etc/libvirt/qemu.conf lets QEMU run as root with no security driver, no cgroups, no
  namespaces and no virtlogd, none of which the tests are about;
- /etc/passwd and /etc/group get the user and group libvirt-qemu, which Debian's
  libvirt-daemon-system package would create and which the QEMU driver looks up before
  it reads qemu.conf.

Needs root, unshare(1) and overlayfs.  The daemon and every QEMU it started are ended
by their process ids when the instance stops.
"""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

LIBVIRTD = '/usr/sbin/libvirtd'
VIRSH = '/usr/bin/virsh'

_NAMESPACE_SCRIPT = r'''
set -e
root=$1
for d in etc var run; do
    mount -t overlay tdx-dpamt-libvirt \
        -o lowerdir=/$d,upperdir=$root/$d-up,workdir=$root/$d-work /$d
done
grep -q '^libvirt-qemu:' /etc/group ||
    echo 'libvirt-qemu:x:64055:' >>/etc/group
grep -q '^libvirt-qemu:' /etc/passwd ||
    echo 'libvirt-qemu:x:64055:64055:libvirt qemu:/var/lib/libvirt:/usr/sbin/nologin' \
        >>/etc/passwd
mkdir -p /etc/libvirt
cp "$root/libvirtd.conf" "$root/qemu.conf" /etc/libvirt/
exec "$2" -f /etc/libvirt/libvirtd.conf -p "$root/libvirtd.pid"
'''

_LIBVIRTD_CONF = '''\
unix_sock_dir = "{root}/sock"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "1:file:{root}/libvirtd.log"
log_filters = "1:qemu.qemu_monitor 2:qemu 3:util 3:rpc 3:conf 3:security 3:node_device \
3:network 3:storage 3:nwfilter"
'''

_QEMU_CONF = '''\
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
'''


class LibvirtError(Exception):
    """The private daemon could not be started, or a virsh command failed."""


def missing_reason():
    """Why a private libvirtd cannot run here, or None."""
    if os.geteuid() != 0:
        return 'needs root for a private libvirtd in a mount namespace'
    for path in (LIBVIRTD, VIRSH):
        if not os.access(path, os.X_OK):
            return '%s is missing (run scripts/install-deps.sh)' % path
    if not shutil.which('unshare'):
        return 'unshare(1) is missing'
    return None


def libvirt_version():
    """The installed libvirt version as a tuple of ints."""
    out = subprocess.run([VIRSH, '--version'], capture_output=True, text=True,
                         check=True).stdout.strip()
    return tuple(int(x) for x in out.split('.')[:3])


class PrivateLibvirtd:
    """with PrivateLibvirtd() as d: d.virsh('list')"""

    def __init__(self, start_timeout=30):
        self.start_timeout = start_timeout
        self.root = None
        self.proc = None

    @property
    def uri(self):
        return 'qemu:///system?socket=%s/sock/libvirt-sock' % self.root

    @property
    def log(self):
        return os.path.join(self.root, 'libvirtd.log')

    def read_log(self):
        try:
            with open(self.log, errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def domain_log(self, name):
        """QEMU's log of domain NAME (stderr and the command line)."""
        path = os.path.join(self.root, 'var-up', 'log', 'libvirt', 'qemu',
                            name + '.log')
        try:
            with open(path, errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def start(self):
        self.root = tempfile.mkdtemp(prefix='tdx-dpamt-libvirt-')
        for d in ('etc', 'var', 'run'):
            os.mkdir(os.path.join(self.root, d + '-up'))
            os.mkdir(os.path.join(self.root, d + '-work'))
        os.mkdir(os.path.join(self.root, 'sock'))
        with open(os.path.join(self.root, 'libvirtd.conf'), 'w') as f:
            f.write(_LIBVIRTD_CONF.format(root=self.root))
        with open(os.path.join(self.root, 'qemu.conf'), 'w') as f:
            f.write(_QEMU_CONF)
        out = open(os.path.join(self.root, 'daemon.out'), 'w')
        self.proc = subprocess.Popen(
            ['unshare', '--mount', '--propagation', 'private',
             'sh', '-c', _NAMESPACE_SCRIPT, 'sh', self.root, LIBVIRTD],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        try:
            self._wait_ready()
        except BaseException:
            self.cleanup()
            raise
        return self

    def _wait_ready(self):
        sock = os.path.join(self.root, 'sock', 'libvirt-sock')
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                raise LibvirtError('libvirtd exited with status %d: %s' %
                                   (self.proc.returncode, self._tail()))
            if os.path.exists(sock):
                try:
                    self.virsh('list', timeout=10)
                    return
                except (LibvirtError, subprocess.TimeoutExpired):
                    pass
            if time.monotonic() > deadline:
                raise LibvirtError('libvirtd did not answer within %d s: %s' %
                                   (self.start_timeout, self._tail()))
            time.sleep(0.2)

    def _tail(self):
        try:
            with open(os.path.join(self.root, 'daemon.out'),
                      errors='replace') as f:
                text = f.read()
        except OSError:
            text = ''
        text = (text + self.read_log())[-1500:]
        return text.strip() or '(no output)'

    def virsh(self, *args, timeout=60, check=True):
        """Run virsh against this daemon; return its stdout."""
        p = subprocess.run([VIRSH, '-q', '-c', self.uri] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise LibvirtError('virsh %s: exit %d: %s' %
                               (' '.join(args), p.returncode,
                                (p.stderr or p.stdout).strip()))
        return p.stdout

    def _qemu_pids(self):
        pids = []
        for path in glob.glob(os.path.join(self.root, 'run-up', 'libvirt',
                                           'qemu', '*.pid')):
            try:
                with open(path) as f:
                    pids.append(int(f.read().strip()))
            except (OSError, ValueError):
                pass
        return pids

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                for name in self.virsh('list', '--name', timeout=20,
                                       check=False).split():
                    self.virsh('destroy', name, timeout=20, check=False)
            except subprocess.TimeoutExpired:
                pass
        # Whatever QEMU is left, by the pid files this daemon wrote
        for pid in self._qemu_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        if self.root and not os.environ.get('TDX_DPAMT_KEEP_LIBVIRT'):
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
