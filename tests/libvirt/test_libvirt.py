# SPDX-License-Identifier: GPL-2.0
"""Debian 12's own libvirt drives the patched QEMU.

libvirt publishes every KVM statistic of a VM that query-stats returns as
``vm.<name>.cur|sum|max`` in ``virsh domstats --vm`` (since 8.9.0), so a TD's
tdx_dpamt_* statistics reach libvirt users with no libvirt change.  These tests run a
private libvirtd (libvirtd_private.py) with the QEMU built here (``<emulator>``) and
check, on whatever this host can run:

- a TCG domain: ``virsh domstats --vm`` answers (libvirt asks query-stats; TCG has no
  KVM statistics, so there are no vm.* fields and no error), and
  ``virsh qemu-monitor-command`` runs query-tdx-pamt and info tdx-pamt;
- a paused KVM domain (where /dev/kvm works): every scalar KVM statistic of the VM that
  query-stats returns appears in ``virsh domstats --vm`` under the name and suffix the
  user guide documents, with the same value;
- a TD (TDX hosts with libvirt >= 11.6 only): its vm.tdx_dpamt_* fields equal the TD's
  query-stats and query-tdx-pamt figures.  Elsewhere it skips, saying why.

Environment: TDX_DPAMT_QEMU, the patched qemu-system-x86_64 (set by meson).
TDX_DPAMT_OVMF names a TDX-capable OVMF for the TD test.  TDX_DPAMT_KEEP_LIBVIRT=1 keeps
the daemon's temporary directory (logs, state) for debugging.
"""

import json
import os
import re
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import libvirtd_private as lv  # noqa: E402 pylint: disable=wrong-import-position

# Statistic type -> the suffix libvirt gives its field
SUFFIX = {'instant': 'cur', 'cumulative': 'sum', 'peak': 'max'}
TD_STATS = {
    'tdx_dpamt_pages': ('instant', 'referenced-pages'),
    'tdx_dpamt_pair_bytes': ('instant', 'pair-bytes'),
    'tdx_dpamt_pair_installs': ('cumulative', 'pair-installs'),
    'tdx_dpamt_cache_bytes': ('instant', 'cache-bytes'),
}
NOT_A_TD_HMP = 'This VM is not a TD: no TDX PAMT figures'

DOMAIN_XML = '''\
<domain type='{type}'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <features><acpi/></features>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>{qemu}</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
'''


def parse_domstats(text):
    """virsh domstats output -> {field: value string}."""
    fields = {}
    for line in text.splitlines():
        line = line.strip()
        if '=' in line:
            key, value = line.split('=', 1)
            fields[key] = value
    return fields


def kvm_reason():
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return '/dev/kvm is not usable here'
    return None


def td_reason():
    """Why a TD domain cannot run here, or None (one line)."""
    reasons = []
    param = '/sys/module/kvm_intel/parameters/tdx'
    try:
        with open(param) as f:
            if f.read().strip() != 'Y':
                reasons.append('not a TDX host (kvm_intel tdx is not Y)')
    except OSError:
        reasons.append('not a TDX host (no %s)' % param)
    version = lv.libvirt_version()
    if version < (11, 6, 0):
        reasons.append('libvirt %s cannot run TD domains (needs 11.6.0)' %
                       '.'.join(map(str, version)))
    if not os.path.exists(os.environ.get('TDX_DPAMT_OVMF',
                                         '/usr/share/ovmf/OVMF.inteltdx.fd')):
        reasons.append('no TDX-capable OVMF (set TDX_DPAMT_OVMF)')
    return '; '.join(reasons) or None


_DAEMON = None


def tearDownModule():  # pylint: disable=invalid-name
    if _DAEMON:
        _DAEMON.cleanup()


class LibvirtTest(unittest.TestCase):
    """The tests share one private libvirtd, started by the first of them."""

    daemon = None
    qemu = None

    @classmethod
    def setUpClass(cls):
        global _DAEMON  # pylint: disable=global-statement
        reason = lv.missing_reason()
        if reason:
            raise unittest.SkipTest(reason)
        qemu = os.environ.get('TDX_DPAMT_QEMU')
        if not qemu or not os.access(qemu, os.X_OK):
            raise unittest.SkipTest('TDX_DPAMT_QEMU is not set or not '
                                    'executable')
        cls.qemu = os.path.abspath(qemu)
        if _DAEMON is None:
            _DAEMON = lv.PrivateLibvirtd().start()
        cls.daemon = _DAEMON

    def start_domain(self, name, dom_type, paused=False):
        xml = DOMAIN_XML.format(type=dom_type, name=name, qemu=self.qemu)
        with tempfile.NamedTemporaryFile('w', suffix='.xml',
                                         dir=self.daemon.root,
                                         delete=False) as f:
            f.write(xml)
        args = ['create', f.name] + (['--paused'] if paused else [])
        try:
            self.daemon.virsh(*args, timeout=120)
        except lv.LibvirtError as err:
            self.fail('%s\nQEMU log:\n%s' % (err, self.daemon.domain_log(name)))
        self.addCleanup(self.daemon.virsh, 'destroy', name, check=False)
        state = self.daemon.virsh('domstate', name).strip()
        self.assertEqual(state, 'paused' if paused else 'running')

    def qmp(self, name, command, **arguments):
        cmd = {'execute': command}
        if arguments:
            cmd['arguments'] = arguments
        reply = json.loads(self.daemon.virsh('qemu-monitor-command', name,
                                             json.dumps(cmd)))
        self.assertIn('return', reply, reply)
        return reply['return']

    def hmp(self, name, command):
        return self.daemon.virsh('qemu-monitor-command', name, '--hmp',
                                 command)

    def stats_requests(self):
        """The query-stats requests libvirt sent so far, from its log."""
        return re.findall(r'QEMU_MONITOR_SEND_MSG: mon=\S+ msg=(\{"execute":'
                          r'"query-stats",[^\n]*)', self.daemon.read_log())

    def kvm_vm_stats(self, name):
        """{name: (type, value)} of the scalar KVM statistics of the VM."""
        types = {}
        for schema in self.qmp(name, 'query-stats-schemas', provider='kvm'):
            if schema['target'] == 'vm':
                for s in schema['stats']:
                    types[s['name']] = s['type']
        out = {}
        for result in self.qmp(name, 'query-stats', target='vm'):
            if result['provider'] != 'kvm':
                continue
            for s in result['stats']:
                if isinstance(s['value'], int) and \
                        not isinstance(s['value'], bool):
                    out[s['name']] = (types[s['name']], s['value'])
        return out


class TcgDomain(LibvirtTest):
    def test_tcg_domain(self):
        name = 'tdx-dpamt-tcg'
        self.start_domain(name, 'qemu')

        before = len(self.stats_requests())
        out = self.daemon.virsh('domstats', '--vm', name)
        fields = parse_domstats(out)
        self.assertIn("Domain: '%s'" % name, out)
        # TCG has no KVM statistics: libvirt asked, and got none
        self.assertEqual([k for k in fields if k.startswith('vm.')], [], out)
        requests = self.stats_requests()[before:]
        self.assertTrue(any('"target":"vm"' in r for r in requests),
                        'virsh domstats --vm did not make libvirt send '
                        'query-stats for the VM: %s' % requests)
        self.assertEqual(self.qmp(name, 'query-stats', target='vm'), [])

        self.assertEqual(self.qmp(name, 'query-tdx-pamt'), {'vm': 'not-a-td'})
        self.assertEqual(self.hmp(name, 'info tdx-pamt').strip(), NOT_A_TD_HMP)
        # The monitor and the domain are fine afterwards
        self.assertEqual(self.qmp(name, 'query-status')['status'], 'running')


class KvmDomain(LibvirtTest):
    def setUp(self):
        reason = kvm_reason()
        if reason:
            self.skipTest(reason)

    def test_vm_stats_reach_domstats(self):
        # Paused: KVM creates the VM and its statistics, no vCPU runs
        name = 'tdx-dpamt-kvm'
        self.start_domain(name, 'kvm', paused=True)
        stats = self.kvm_vm_stats(name)
        self.assertTrue(stats, 'query-stats returned no KVM statistics')
        fields = parse_domstats(self.daemon.virsh('domstats', '--vm', name))
        for stat, (stype, value) in stats.items():
            if stype not in SUFFIX:
                continue
            field = 'vm.%s.%s' % (stat, SUFFIX[stype])
            self.assertIn(field, fields, 'query-stats has %s' % stat)
            self.assertEqual(int(fields[field]), value, field)
        # Where the kernel has per-TD Dynamic PAMT accounting, every VM has
        # the statistics (0 outside TDs) and they reach libvirt the same way
        present = [s for s in TD_STATS if s in stats]
        if present:
            self.assertEqual(sorted(present), sorted(TD_STATS))
            for stat, (stype, _) in TD_STATS.items():
                self.assertEqual(stats[stat][0], stype, stat)
                self.assertIn('vm.%s.%s' % (stat, SUFFIX[stype]), fields)
        print('\n%d KVM statistics of the VM in virsh domstats --vm%s' %
              (len(stats), '' if present else
               ' (this kernel has no tdx_dpamt_* statistics)'))

        self.assertEqual(self.qmp(name, 'query-tdx-pamt'), {'vm': 'not-a-td'})
        self.assertEqual(self.hmp(name, 'info tdx-pamt').strip(), NOT_A_TD_HMP)


class TdDomain(LibvirtTest):
    TD_XML = '''\
<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>2048</memory>
  <vcpu>2</vcpu>
  <features><acpi/></features>
  <os><type arch='x86_64' machine='q35'>hvm</type><loader>{ovmf}</loader></os>
  <cpu mode='host-passthrough'/>
  <launchSecurity type='tdx'/>
  <devices>
    <emulator>{qemu}</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
'''

    @classmethod
    def setUpClass(cls):
        reason = lv.missing_reason() or td_reason()
        if reason:
            raise unittest.SkipTest(reason)
        super().setUpClass()

    def test_td_fields_agree(self):
        name = 'tdx-dpamt-td'
        xml = self.TD_XML.format(
            name=name, qemu=self.qemu,
            ovmf=os.environ.get('TDX_DPAMT_OVMF',
                                '/usr/share/ovmf/OVMF.inteltdx.fd'))
        path = os.path.join(self.daemon.root, 'td.xml')
        with open(path, 'w') as f:
            f.write(xml)
        self.daemon.virsh('create', path, timeout=300)
        self.addCleanup(self.daemon.virsh, 'destroy', name, check=False)
        deadline = time.monotonic() + 120
        while True:
            stats = self.kvm_vm_stats(name)
            info = self.qmp(name, 'query-tdx-pamt')
            fields = parse_domstats(self.daemon.virsh('domstats', '--vm',
                                                      name))
            again = self.kvm_vm_stats(name)
            if stats == again and stats.get('tdx_dpamt_pair_bytes',
                                            ('', 0))[1] > 0:
                break
            self.assertLess(time.monotonic(), deadline,
                            'no stable, non-zero TD figures: %s' % info)
            time.sleep(1)
        self.assertEqual(info['vm'], 'td')
        self.assertEqual(info['stats']['status'], 'available')
        for stat, (stype, member) in TD_STATS.items():
            value = stats[stat][1]
            self.assertEqual(int(fields['vm.%s.%s' % (stat, SUFFIX[stype])]),
                             value, stat)
            self.assertEqual(info['stats'][member], value, member)


if __name__ == '__main__':
    unittest.main()
