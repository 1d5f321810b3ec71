/*
 * Black-box tests of query-tdx-pamt and info tdx-pamt
 *
 * Built against a patched QEMU build tree by build.py and run by
 * run-qtests.sh; see README.md.  Everything is checked from the outside,
 * through QMP and HMP.  The VMs started here are never TDs (that needs
 * TDX hardware), so the answer must be "not-a-td", given without
 * reading anything from the host; the figures of a TD are covered by
 * the series' unit test on fake statistics and sysfs files.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/inotify.h>
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"
#include "qemu/cutils.h"

/* Queries in the loop, and the RSS growth allowed over them */
#define LOOP_QUERIES 1000
#define LOOP_WARMUP 200
#define RSS_BOUND_KB 1024

#define NOT_A_TD_HMP "This VM is not a TD: no TDX PAMT figures\n"

/* The answer of an emulator with TDX support for a VM that is not a TD */
static void check_not_a_td(QDict *ret)
{
    g_assert_nonnull(ret);
    g_assert_cmpstr(qdict_get_try_str(ret, "vm"), ==, "not-a-td");
    g_assert_cmpint(qdict_size(ret), ==, 1);
}

static QDict *query(QTestState *qts)
{
    return qtest_qmp_assert_success_ref(qts,
                                        "{ 'execute': 'query-tdx-pamt' }");
}

/* info tdx-pamt, with the monitor's CR LF line ends turned into LF */
static char *hmp_info(QTestState *qts)
{
    char *out = qtest_hmp(qts, "info tdx-pamt");
    char *r, *w;

    for (r = w = out; *r; r++) {
        if (*r != '\r') {
            *w++ = *r;
        }
    }
    *w = '\0';
    return out;
}

static void check_answers(QTestState *qts)
{
    g_autofree char *out = NULL;
    QDict *ret = query(qts);

    check_not_a_td(ret);
    qobject_unref(ret);
    out = hmp_info(qts);
    g_assert_cmpstr(out, ==, NOT_A_TD_HMP);
}

/* --- the answer on several machines and accelerators --------------------- */

static void test_answer(gconstpointer data)
{
    QTestState *qts = qtest_init(data);

    check_answers(qts);
    /* Still the same once the guest runs */
    qtest_qmp_assert_success(qts, "{ 'execute': 'cont' }");
    check_answers(qts);
    qtest_quit(qts);
}

/*
 * The names of the KVM statistics of @target that query-stats-schemas
 * describes
 */
static GHashTable *schema_names(QTestState *qts, const char *target)
{
    GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal,
                                              g_free, NULL);
    QDict *resp = qtest_qmp(qts, "{ 'execute': 'query-stats-schemas' }");
    const QListEntry *e;

    QLIST_FOREACH_ENTRY(qdict_get_qlist(resp, "return"), e) {
        QDict *s = qobject_to(QDict, qlist_entry_obj(e));
        const QListEntry *v;

        if (!g_str_equal(qdict_get_str(s, "provider"), "kvm") ||
            !g_str_equal(qdict_get_str(s, "target"), target)) {
            continue;
        }
        QLIST_FOREACH_ENTRY(qdict_get_qlist(s, "stats"), v) {
            QDict *d = qobject_to(QDict, qlist_entry_obj(v));

            g_hash_table_add(names, g_strdup(qdict_get_str(d, "name")));
        }
    }
    qobject_unref(resp);
    g_assert_cmpuint(g_hash_table_size(names), >, 0);
    return names;
}

/*
 * query-stats for @target returns, for each KVM result, exactly the
 * statistics query-stats-schemas describes.  Returns the number of
 * results.
 */
static int check_kvm_stats(QTestState *qts, const char *target)
{
    g_autoptr(GHashTable) names = schema_names(qts, target);
    QDict *resp;
    const QListEntry *e;
    int results = 0;

    resp = qtest_qmp(qts, "{ 'execute': 'query-stats',"
                     " 'arguments': { 'target': %s } }", target);
    QLIST_FOREACH_ENTRY(qdict_get_qlist(resp, "return"), e) {
        QDict *r = qobject_to(QDict, qlist_entry_obj(e));
        const QListEntry *v;
        int n = 0;

        if (!g_str_equal(qdict_get_str(r, "provider"), "kvm")) {
            continue;
        }
        QLIST_FOREACH_ENTRY(qdict_get_qlist(r, "stats"), v) {
            QDict *s = qobject_to(QDict, qlist_entry_obj(v));

            g_assert_true(g_hash_table_contains(names,
                                                qdict_get_str(s, "name")));
            n++;
        }
        g_assert_cmpint(n, ==, g_hash_table_size(names));
        g_test_message("query-stats: %d KVM statistics of the %s", n,
                       target);
        results++;
    }
    qobject_unref(resp);
    return results;
}

/*
 * query-stats on a KVM VM (paused: its vCPU exists but never runs):
 * the KVM statistics reader that the series moved reads the running
 * kernel's real layout, for the VM and for a vCPU, and reports what
 * query-stats-schemas describes.
 */
static void test_query_stats_kvm(void)
{
    QTestState *qts = qtest_init("-machine q35 -accel kvm -S");

    check_answers(qts);
    g_assert_cmpint(check_kvm_stats(qts, "vm"), ==, 1);
    g_assert_cmpint(check_kvm_stats(qts, "vcpu"), ==, 1);
    qtest_quit(qts);
}

/* --- many queries: stable answers and bounded memory --------------------- */

static long rss_kb(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
    g_autofree char *status = NULL;
    const char *p;
    long kb;

    g_assert_true(g_file_get_contents(path, &status, NULL, NULL));
    p = strstr(status, "\nVmRSS:");
    g_assert_nonnull(p);
    p += strlen("\nVmRSS:");
    g_assert_cmpint(qemu_strtol(p, &p, 10, &kb), ==, 0);
    g_assert_true(g_str_has_prefix(p, " kB"));
    return kb;
}

static void test_loop(void)
{
    QTestState *qts = qtest_init("-machine none");
    pid_t pid = qtest_pid(qts);
    long before, after;
    int i;

    for (i = 0; i < LOOP_WARMUP; i++) {
        qobject_unref(query(qts));
    }
    before = rss_kb(pid);
    for (i = 0; i < LOOP_QUERIES; i++) {
        QDict *ret = query(qts);

        check_not_a_td(ret);
        qobject_unref(ret);
    }
    after = rss_kb(pid);
    g_test_message("%d queries; QEMU RSS %ld kB -> %ld kB", LOOP_QUERIES,
                   before, after);
    g_assert_cmpint(after - before, <=, RSS_BOUND_KB);
    qtest_quit(qts);
}

/* --- a fake TDX host ------------------------------------------------------ */

/*
 * fake-tdx-host.sh runs QEMU in a mount namespace where the kernel's
 * /sys/devices/faux/tdx_host/pamt is a directory of this test, or where
 * /sys/devices/faux cannot be read at all, as under libvirt's AppArmor
 * profile.  The real host is not touched.
 */
static const char *fake_wrapper;

static const struct {
    const char *name;
    const char *value;
} host_files[] = {
    { "mode", "dynamic\n" },
    { "static_bytes", "10489856\n" },
    { "dynamic_bytes", "16875520\n" },
    { "metadata_bytes", "524288\n" },
    { "static_equivalent_bytes", "1075843072\n" },
    { "leaked_bytes", "0\n" },
};

static QTestState *fake_start(const char *wrapper_args, const char *args)
{
    g_autofree char *cmd = g_strdup_printf("%s %s %s", fake_wrapper,
                                           wrapper_args,
                                           qtest_qemu_binary(NULL));

    g_setenv("TDX_DPAMT_FAKE_QEMU", cmd, true);
    return qtest_init_ext("TDX_DPAMT_FAKE_QEMU", args, NULL, true);
}

/* The number of inotify events waiting on @fd */
static int pending_events(int fd)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int n = 0;
    ssize_t len;

    while ((len = read(fd, buf, sizeof(buf))) > 0) {
        char *p;

        for (p = buf; p < buf + len;
             p += sizeof(struct inotify_event) +
                  ((struct inotify_event *)p)->len) {
            n++;
        }
    }
    g_assert_cmpint(errno, ==, EAGAIN);
    return n;
}

/*
 * A VM that is not a TD answers without reading the host: nothing in
 * the fake pamt directory is opened, however often it is asked.
 */
static void test_fake_host_not_read(gconstpointer data)
{
    g_autofree char *dir = NULL;
    g_autofree char *mode = NULL;
    g_autofree char *text = NULL;
    GError *err = NULL;
    QTestState *qts;
    size_t i;
    int fd;

    dir = g_dir_make_tmp("tdx-dpamt-fake-XXXXXX", &err);
    g_assert_no_error(err);
    for (i = 0; i < ARRAY_SIZE(host_files); i++) {
        g_autofree char *path = g_build_filename(dir, host_files[i].name,
                                                 NULL);

        g_assert_true(g_file_set_contents(path, host_files[i].value, -1,
                                          NULL));
    }
    fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(inotify_add_watch(fd, dir, IN_OPEN | IN_ACCESS), >=, 0);

    qts = fake_start(dir, data);
    /* The watch sees what is opened through QEMU's mount namespace */
    g_assert_cmpint(pending_events(fd), ==, 0);
    check_answers(qts);
    qtest_qmp_assert_success(qts, "{ 'execute': 'cont' }");
    for (i = 0; i < 10; i++) {
        check_answers(qts);
    }
    g_assert_cmpint(pending_events(fd), ==, 0);

    /* The watch works: reading a file is seen */
    mode = g_build_filename(dir, "mode", NULL);
    g_assert_true(g_file_get_contents(mode, &text, NULL, NULL));
    g_assert_cmpint(pending_events(fd), >, 0);

    qtest_quit(qts);
    close(fd);
    for (i = 0; i < ARRAY_SIZE(host_files); i++) {
        g_autofree char *path = g_build_filename(dir, host_files[i].name,
                                                 NULL);

        g_assert_cmpint(unlink(path), ==, 0);
    }
    g_assert_cmpint(rmdir(dir), ==, 0);
}

/*
 * /sys/devices/faux cannot be read by QEMU (fake-tdx-host.sh checks
 * that before it starts QEMU): the commands still answer, and QEMU
 * keeps working.
 */
static void test_fake_host_unreadable(gconstpointer data)
{
    QTestState *qts = fake_start("--unreadable", data);
    int i;

    for (i = 0; i < 3; i++) {
        check_answers(qts);
    }
    qtest_qmp_assert_success(qts, "{ 'execute': 'query-status' }");
    qtest_quit(qts);
}

static void test_skip(gconstpointer reason)
{
    g_test_skip(reason);
}

static int probe(const char *arg)
{
    char *argv[] = { (char *)fake_wrapper, (char *)arg, NULL };
    int status = 0;

    if (!g_spawn_sync(NULL, argv, NULL, 0, NULL, NULL, NULL, NULL, &status,
                      NULL)) {
        return -1;
    }
    return status;
}

int main(int argc, char **argv)
{
    const char *skip = NULL;
    bool tcg;

    g_test_init(&argc, &argv, NULL);
    tcg = qtest_has_machine("q35") && qtest_has_accel("tcg");

    qtest_add_data_func("/tdx-pamt/answer/none", "-machine none",
                        test_answer);
    if (tcg) {
        qtest_add_data_func("/tdx-pamt/answer/q35-tcg",
                            "-machine q35 -accel tcg -S", test_answer);
    }
    if (qtest_has_accel("kvm")) {
        qtest_add_data_func("/tdx-pamt/answer/kvm",
                            "-machine none -accel kvm -S", test_answer);
        qtest_add_func("/tdx-pamt/query-stats/kvm", test_query_stats_kvm);
    } else {
        qtest_add_data_func("/tdx-pamt/answer/kvm",
                            "/dev/kvm is not usable here", test_skip);
    }
    qtest_add_func("/tdx-pamt/loop", test_loop);

    fake_wrapper = g_getenv("TDX_DPAMT_FAKE_HOST");
    if (!fake_wrapper) {
        skip = "TDX_DPAMT_FAKE_HOST is not set (run through run-qtests.sh)";
    } else if (probe("--probe") != 0) {
        skip = "cannot mount a fake /sys/devices/faux "
               "(needs root, unshare and /sys/devices/faux)";
    } else if (!tcg) {
        skip = "needs q35 and TCG";
    }
    if (skip) {
        qtest_add_data_func("/tdx-pamt/fake-host", skip, test_skip);
    } else {
        qtest_add_data_func("/tdx-pamt/fake-host/not-read/none",
                            "-machine none", test_fake_host_not_read);
        qtest_add_data_func("/tdx-pamt/fake-host/not-read/q35-tcg",
                            "-machine q35 -accel tcg -S",
                            test_fake_host_not_read);
        qtest_add_data_func("/tdx-pamt/fake-host/unreadable/none",
                            "-machine none", test_fake_host_unreadable);
        qtest_add_data_func("/tdx-pamt/fake-host/unreadable/q35-tcg",
                            "-machine q35 -accel tcg",
                            test_fake_host_unreadable);
        if (qtest_has_accel("kvm")) {
            qtest_add_data_func("/tdx-pamt/fake-host/unreadable/kvm",
                                "-machine none -accel kvm",
                                test_fake_host_unreadable);
        }
    }

    return g_test_run();
}
