/*
 * Black-box tests of query-tdx-pamt and info tdx-pamt
 *
 * Built against a patched QEMU build tree by build.py and run by
 * run-qtests.sh; see README.md.  Everything is checked from the outside,
 * through QMP and HMP, on whatever host runs the test: without TDX the
 * answer is "mode": "none", on a TDX host the host figures must be
 * consistent.  The VMs started here are never TDs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qstring.h"
#include "qemu/cutils.h"

/* Queries in the loop, and the RSS growth allowed over them */
#define LOOP_QUERIES 1000
#define LOOP_WARMUP 200
#define RSS_BOUND_KB 1024

static const char *const host_members[] = {
    "tdx-memory-bytes", "static-bytes", "static-equivalent-bytes",
    "dynamic-bytes", "dynamic-peak-bytes", "metadata-bytes", "saved-bytes",
};

static const char *const guest_members[] = {
    "pages", "dynamic-bytes", "static-equivalent-bytes", "saved-bytes",
};

/*
 * Check one answer of query-tdx-pamt from a VM that is not a TD.
 * Returns its mode.
 */
static const char *check_answer(QDict *ret)
{
    const char *mode;
    QDict *host;
    size_t i;

    g_assert_nonnull(ret);
    mode = qdict_get_try_str(ret, "mode");
    g_assert_nonnull(mode);
    g_assert_false(qdict_haskey(ret, "guest"));

    if (g_str_equal(mode, "none")) {
        g_assert_cmpint(qdict_size(ret), ==, 1);
        return "none";
    }
    g_assert_true(g_str_equal(mode, "static") ||
                  g_str_equal(mode, "dynamic"));

    host = qdict_get_qdict(ret, "host");
    g_assert_nonnull(host);
    g_assert_cmpint(qdict_size(host), ==, ARRAY_SIZE(host_members));
    for (i = 0; i < ARRAY_SIZE(host_members); i++) {
        g_assert_true(qdict_haskey(host, host_members[i]));
    }
    /*
     * saved = static-equivalent - static - dynamic.  The kernel files are
     * read one by one, so only the static figures are stable enough to
     * compare exactly; dynamic-bytes may move between two reads.
     */
    g_assert_cmpint(qdict_get_int(host, "static-bytes"), <=,
                    qdict_get_int(host, "static-equivalent-bytes"));
    g_assert_cmpint(qdict_get_int(host, "saved-bytes"), <=,
                    qdict_get_int(host, "static-equivalent-bytes") -
                    qdict_get_int(host, "static-bytes"));
    if (g_str_equal(mode, "static")) {
        g_assert_cmpint(qdict_get_int(host, "saved-bytes"), ==, 0);
        return "static";
    }
    return "dynamic";
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

static QDict *query(QTestState *qts)
{
    return qtest_qmp_assert_success_ref(qts,
                                        "{ 'execute': 'query-tdx-pamt' }");
}

/* --- the schema ---------------------------------------------------------- */

static QDict *schema_find(QList *schema, const char *name)
{
    const QListEntry *e;

    QLIST_FOREACH_ENTRY(schema, e) {
        QDict *d = qobject_to(QDict, qlist_entry_obj(e));

        if (g_str_equal(qdict_get_str(d, "name"), name)) {
            return d;
        }
    }
    return NULL;
}

/* The schema entry of the type of member @name of object @obj */
static QDict *schema_member(QList *schema, QDict *obj, const char *name,
                            bool optional)
{
    const QListEntry *e;

    g_assert_cmpstr(qdict_get_str(obj, "meta-type"), ==, "object");
    QLIST_FOREACH_ENTRY(qdict_get_qlist(obj, "members"), e) {
        QDict *m = qobject_to(QDict, qlist_entry_obj(e));

        if (g_str_equal(qdict_get_str(m, "name"), name)) {
            QDict *type = schema_find(schema, qdict_get_str(m, "type"));

            g_assert_cmpint(qdict_haskey(m, "default"), ==, optional);
            g_assert_nonnull(type);
            return type;
        }
    }
    g_test_message("member %s missing", name);
    g_assert_not_reached();
}

static void test_schema(void)
{
    static const char *const modes[] = { "none", "static", "dynamic" };
    QTestState *qts = qtest_init("-machine none");
    QDict *resp = qtest_qmp(qts, "{ 'execute': 'query-qmp-schema' }");
    QList *schema = qdict_get_qlist(resp, "return");
    QDict *cmd, *ret, *mode, *host, *guest;
    const QListEntry *e;
    size_t i = 0;

    g_assert_nonnull(schema);
    cmd = schema_find(schema, "query-tdx-pamt");
    g_assert_nonnull(cmd);
    g_assert_cmpstr(qdict_get_str(cmd, "meta-type"), ==, "command");

    /* No arguments: the argument type is the empty object */
    g_assert_cmpint(qlist_size(qdict_get_qlist(
                        schema_find(schema, qdict_get_str(cmd, "arg-type")),
                        "members")), ==, 0);

    ret = schema_find(schema, qdict_get_str(cmd, "ret-type"));
    g_assert_nonnull(ret);
    g_assert_cmpint(qlist_size(qdict_get_qlist(ret, "members")), ==, 3);

    mode = schema_member(schema, ret, "mode", false);
    g_assert_cmpstr(qdict_get_str(mode, "meta-type"), ==, "enum");
    QLIST_FOREACH_ENTRY(qdict_get_qlist(mode, "values"), e) {
        g_assert_cmpuint(i, <, ARRAY_SIZE(modes));
        g_assert_cmpstr(qstring_get_str(qobject_to(QString,
                                                   qlist_entry_obj(e))),
                        ==, modes[i]);
        i++;
    }
    g_assert_cmpuint(i, ==, ARRAY_SIZE(modes));

    host = schema_member(schema, ret, "host", true);
    g_assert_cmpint(qlist_size(qdict_get_qlist(host, "members")), ==,
                    ARRAY_SIZE(host_members));
    for (i = 0; i < ARRAY_SIZE(host_members); i++) {
        QDict *t = schema_member(schema, host, host_members[i], false);

        g_assert_cmpstr(qdict_get_str(t, "json-type"), ==, "int");
    }

    guest = schema_member(schema, ret, "guest", true);
    g_assert_cmpint(qlist_size(qdict_get_qlist(guest, "members")), ==,
                    ARRAY_SIZE(guest_members));
    for (i = 0; i < ARRAY_SIZE(guest_members); i++) {
        QDict *t = schema_member(schema, guest, guest_members[i], false);

        g_assert_cmpstr(qdict_get_str(t, "json-type"), ==, "int");
    }

    qobject_unref(resp);
    qtest_quit(qts);
}

/* --- the answer on several machines and accelerators --------------------- */

static void test_answer(gconstpointer data)
{
    QTestState *qts = qtest_init(data);
    QDict *ret = query(qts);

    g_test_message("mode: %s", check_answer(ret));
    qobject_unref(ret);

    /* Still answers once the guest runs */
    qtest_qmp_assert_success(qts, "{ 'execute': 'cont' }");
    ret = query(qts);
    check_answer(ret);
    qobject_unref(ret);
    qtest_quit(qts);
}

/* --- wrong arguments ----------------------------------------------------- */

static void expect_error(QTestState *qts, const char *cmd, const char *class,
                         const char *desc_part)
{
    QDict *resp, *err;

    /* Sent as it is: some of these are not what a QMP client would send */
    qtest_qmp_send_raw(qts, "%s", cmd);
    resp = qtest_qmp_receive(qts);
    err = qdict_get_qdict(resp, "error");

    g_assert_nonnull(err);
    g_test_message("%s -> %s: %s", cmd, qdict_get_str(err, "class"),
                   qdict_get_str(err, "desc"));
    g_assert_cmpstr(qdict_get_str(err, "class"), ==, class);
    g_assert_nonnull(strstr(qdict_get_str(err, "desc"), desc_part));
    qobject_unref(resp);
}

static void test_bad_arguments(void)
{
    QTestState *qts = qtest_init("-machine none");
    QDict *ret;

    expect_error(qts, "{ 'execute': 'query-tdx-pamt',"
                 " 'arguments': { 'verbose': true } }",
                 "GenericError", "'verbose' is unexpected");
    expect_error(qts, "{ 'execute': 'query-tdx-pamt',"
                 " 'arguments': { 'host': {} } }",
                 "GenericError", "'host' is unexpected");
    expect_error(qts, "{ 'execute': 'query-tdx-pamt', 'arguments': [] }",
                 "GenericError", "arguments");
    expect_error(qts, "{ 'execute': 'query-tdx-pamts' }",
                 "CommandNotFound", "query-tdx-pamts");

    /* The monitor is still fine */
    ret = query(qts);
    check_answer(ret);
    qobject_unref(ret);
    qtest_quit(qts);
}

/* --- HMP ----------------------------------------------------------------- */

/* Parse "12.3 MiB", "512 B" or "-2.0 KiB" into bytes, with the tolerance */
static bool parse_size(const char *s, double *bytes, double *tolerance)
{
    static const struct {
        const char *name;
        double scale;
    } units[] = {
        { "B", 1 }, { "KiB", 1024.0 }, { "MiB", 1024.0 * 1024 },
        { "GiB", 1024.0 * 1024 * 1024 },
    };
    char unit[8];
    double v;
    int n = 0;
    size_t i;

    if (sscanf(s, "%lf %7s%n", &v, unit, &n) != 2) {
        return false;
    }
    for (i = 0; i < ARRAY_SIZE(units); i++) {
        if (g_str_equal(unit, units[i].name)) {
            *bytes = v * units[i].scale;
            /* one decimal, rounded */
            *tolerance = i == 0 ? 0 : 0.051 * units[i].scale;
            return true;
        }
    }
    return false;
}

static void test_hmp(gconstpointer data)
{
    static const struct {
        const char *label;
        const char *member;
    } host_lines[] = {
        { "tdx-memory:", "tdx-memory-bytes" },
        { "static-equivalent:", "static-equivalent-bytes" },
        { "static:", "static-bytes" },
        { "dynamic:", "dynamic-bytes" },
        { "dynamic-peak:", "dynamic-peak-bytes" },
        { "metadata:", "metadata-bytes" },
        { "saved:", "saved-bytes" },
    };
    QTestState *qts = qtest_init(data);
    QDict *ret = query(qts);
    const char *mode = check_answer(ret);
    g_autofree char *out = hmp_info(qts);
    g_auto(GStrv) lines = g_strsplit(out, "\n", 0);
    g_autofree char *first = g_strdup_printf("TDX PAMT mode: %s", mode);
    QDict *host;
    size_t i;

    for (i = 0; lines[i]; i++) {
        g_test_message("info tdx-pamt: %s", lines[i]);
    }
    g_assert_true(g_str_has_prefix(lines[0], first));
    if (g_str_equal(mode, "none")) {
        /* One line, and no error message */
        g_assert_cmpuint(g_strv_length(lines), ==, 2);
        g_assert_cmpstr(lines[1], ==, "");
        g_assert_null(strstr(out, "rror"));
        goto out;
    }

    /* mode, "host:", 7 figures, "guest: not a TD", and the final "" */
    g_assert_cmpstr(lines[0], ==, first);
    g_assert_cmpuint(g_strv_length(lines), ==, 11);
    g_assert_cmpstr(lines[1], ==, "host:");
    host = qdict_get_qdict(ret, "host");
    for (i = 0; i < ARRAY_SIZE(host_lines); i++) {
        const char *l = lines[2 + i];
        double bytes, tol, want;

        g_assert_true(g_str_has_prefix(l, "  "));
        g_assert_true(g_str_has_prefix(l + 2, host_lines[i].label));
        g_assert_true(parse_size(l + 2 + strlen(host_lines[i].label) +
                                 strspn(l + 2 + strlen(host_lines[i].label),
                                        " "), &bytes, &tol));
        /* Figures that can move between the two queries are not compared */
        if (g_str_equal(host_lines[i].member, "dynamic-bytes") ||
            g_str_equal(host_lines[i].member, "dynamic-peak-bytes") ||
            g_str_equal(host_lines[i].member, "saved-bytes")) {
            continue;
        }
        want = qdict_get_int(host, host_lines[i].member);
        g_assert_cmpfloat(bytes, >=, want - tol);
        g_assert_cmpfloat(bytes, <=, want + tol);
    }
    /* The saving as a share of the static baseline */
    if (qdict_get_int(host, "static-equivalent-bytes") > 0) {
        g_assert_true(g_str_has_suffix(lines[8], "%)"));
    }
    g_assert_cmpstr(lines[9], ==, "guest: not a TD");
    g_assert_cmpstr(lines[10], ==, "");
out:
    qobject_unref(ret);
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

static void run_loop(QTestState *qts)
{
    pid_t pid = qtest_pid(qts);
    QDict *first = query(qts);
    const char *mode = check_answer(first);
    long before, after;
    int i;

    for (i = 0; i < LOOP_WARMUP; i++) {
        qobject_unref(query(qts));
    }
    before = rss_kb(pid);

    for (i = 0; i < LOOP_QUERIES; i++) {
        QDict *ret = query(qts);

        g_assert_cmpstr(check_answer(ret), ==, mode);
        if (g_str_equal(mode, "none")) {
            g_assert_true(qobject_is_equal(QOBJECT(ret), QOBJECT(first)));
        }
        qobject_unref(ret);
    }
    after = rss_kb(pid);

    g_test_message("%d queries, mode %s; QEMU RSS %ld kB -> %ld kB",
                   LOOP_QUERIES, mode, before, after);
    g_assert_cmpint(after - before, <=, RSS_BOUND_KB);
    qobject_unref(first);
}

static void test_loop(void)
{
    QTestState *qts = qtest_init("-machine none");

    run_loop(qts);
    qtest_quit(qts);
}

/* --- a fake TDX host ------------------------------------------------------ */

/*
 * fake-tdx-host.sh runs QEMU in a mount namespace where the kernel's
 * directory /sys/devices/faux/tdx_host/pamt is a temporary directory
 * of this test.  So the real binary reads the real path, and the test
 * decides what the kernel says, and can change it while QEMU runs.
 */
static const char *fake_wrapper;

/* The host of the example in QEMU's docs/system/i386/tdx.rst */
static const struct {
    const char *name;
    const char *value;
    int64_t bytes;
    const char *member;
} example[] = {
    { "mode", "dynamic\n", 0, NULL },
    { "tdx_memory_bytes", "274877906944\n", 274877906944LL,
      "tdx-memory-bytes" },
    { "static_bytes", "10489856\n", 10489856, "static-bytes" },
    { "static_equivalent_bytes", "1075843072\n", 1075843072,
      "static-equivalent-bytes" },
    { "dynamic_bytes", "16875520\n", 16875520, "dynamic-bytes" },
    { "dynamic_peak_bytes", "33767424\n", 33767424, "dynamic-peak-bytes" },
    { "metadata_bytes", "524288\n", 524288, "metadata-bytes" },
    { "pair_installs", "4122\n", 0, NULL },
    { "pair_removals", "2062\n", 0, NULL },
    { "leaked_bytes", "0\n", 0, NULL },
};

static const char example_hmp[] =
    "TDX PAMT mode: dynamic\n"
    "host:\n"
    "  tdx-memory:          256.0 GiB\n"
    "  static-equivalent:   1.0 GiB\n"
    "  static:              10.0 MiB\n"
    "  dynamic:             16.1 MiB\n"
    "  dynamic-peak:        32.2 MiB\n"
    "  metadata:            512.0 KiB\n"
    "  saved:               999.9 MiB (97.5%)\n"
    "guest: not a TD\n";

typedef struct FakeHost {
    char *dir;
    QTestState *qts;
} FakeHost;

static void fake_set(FakeHost *fh, const char *name, const char *value)
{
    g_autofree char *path = g_build_filename(fh->dir, name, NULL);

    g_assert_true(g_file_set_contents(path, value, -1, NULL));
}

static void fake_start(FakeHost *fh, const char *args)
{
    g_autofree char *cmd = NULL;
    GError *err = NULL;
    size_t i;

    fh->dir = g_dir_make_tmp("tdx-dpamt-fake-XXXXXX", &err);
    g_assert_no_error(err);
    for (i = 0; i < ARRAY_SIZE(example); i++) {
        fake_set(fh, example[i].name, example[i].value);
    }
    cmd = g_strdup_printf("%s %s %s", fake_wrapper, fh->dir,
                          qtest_qemu_binary(NULL));
    g_setenv("TDX_DPAMT_FAKE_QEMU", cmd, true);
    fh->qts = qtest_init_ext("TDX_DPAMT_FAKE_QEMU", args, NULL, true);
}

static void fake_stop(FakeHost *fh)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf %s", fh->dir);

    qtest_quit(fh->qts);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(fh->dir);
}

/* Expect query-tdx-pamt and info tdx-pamt to fail, naming @file */
static void fake_expect_error(FakeHost *fh, const char *file)
{
    g_autofree char *path = g_build_filename("/sys/devices/faux/tdx_host/pamt",
                                             file, NULL);
    QDict *resp = qtest_qmp(fh->qts, "{ 'execute': 'query-tdx-pamt' }");
    QDict *err = qdict_get_qdict(resp, "error");
    g_autofree char *out = NULL;

    g_assert_nonnull(err);
    g_test_message("%s: %s", file, qdict_get_str(err, "desc"));
    g_assert_cmpstr(qdict_get_str(err, "class"), ==, "GenericError");
    g_assert_nonnull(strstr(qdict_get_str(err, "desc"), path));
    qobject_unref(resp);

    out = hmp_info(fh->qts);
    g_assert_true(g_str_has_prefix(out, "Error: "));
    g_assert_nonnull(strstr(out, path));

    /* QEMU is still fine */
    qtest_qmp_assert_success(fh->qts, "{ 'execute': 'query-status' }");
}

static void test_fake_host(void)
{
    FakeHost fh;
    QDict *ret, *host;
    g_autofree char *out = NULL;
    size_t i;

    /* A TCG guest on a TDX host reports the host, but is not a TD */
    fake_start(&fh, "-machine q35 -accel tcg");
    ret = query(fh.qts);
    g_assert_cmpstr(check_answer(ret), ==, "dynamic");
    host = qdict_get_qdict(ret, "host");
    for (i = 0; i < ARRAY_SIZE(example); i++) {
        if (example[i].member) {
            g_assert_cmpint(qdict_get_int(host, example[i].member), ==,
                            example[i].bytes);
        }
    }
    g_assert_cmpint(qdict_get_int(host, "saved-bytes"), ==,
                    1075843072 - 10489856 - 16875520);
    qobject_unref(ret);

    out = hmp_info(fh.qts);
    g_assert_cmpstr(out, ==, example_hmp);
    fake_stop(&fh);
}

static void test_fake_host_live(void)
{
    FakeHost fh;
    QDict *ret, *host;

    fake_start(&fh, "-machine none");

    /* Nothing is cached: every query reads the kernel again */
    fake_set(&fh, "dynamic_bytes", "33554432\n");
    ret = query(fh.qts);
    host = qdict_get_qdict(ret, "host");
    g_assert_cmpint(qdict_get_int(host, "dynamic-bytes"), ==, 33554432);
    g_assert_cmpint(qdict_get_int(host, "saved-bytes"), ==,
                    1075843072 - 10489856 - 33554432);
    qobject_unref(ret);

    /* More page pairs than a static PAMT: the saving goes negative */
    fake_set(&fh, "dynamic_bytes", "1073741824\n");
    ret = query(fh.qts);
    host = qdict_get_qdict(ret, "host");
    g_assert_cmpint(qdict_get_int(host, "saved-bytes"), ==,
                    1075843072LL - 10489856 - 1073741824);
    qobject_unref(ret);

    /* The module could also be configured with a static PAMT */
    fake_set(&fh, "mode", "static\n");
    fake_set(&fh, "static_bytes", "1075843072\n");
    fake_set(&fh, "dynamic_bytes", "0\n");
    fake_set(&fh, "dynamic_peak_bytes", "0\n");
    fake_set(&fh, "metadata_bytes", "0\n");
    ret = query(fh.qts);
    g_assert_cmpstr(check_answer(ret), ==, "static");
    qobject_unref(ret);
    fake_stop(&fh);
}

static void test_fake_host_errors(void)
{
    FakeHost fh;
    g_autofree char *path = NULL;
    QDict *ret;

    fake_start(&fh, "-machine none");

    fake_set(&fh, "static_bytes", "12x\n");
    fake_expect_error(&fh, "static_bytes");
    fake_set(&fh, "static_bytes", "-1\n");
    fake_expect_error(&fh, "static_bytes");
    fake_set(&fh, "static_bytes", "10489856\n");

    fake_set(&fh, "mode", "turbo\n");
    fake_expect_error(&fh, "mode");
    fake_set(&fh, "mode", "dynamic\n");

    /* Missing, and unreadable even for root */
    path = g_build_filename(fh.dir, "metadata_bytes", NULL);
    g_assert_cmpint(unlink(path), ==, 0);
    fake_expect_error(&fh, "metadata_bytes");
    g_assert_cmpint(mkdir(path, 0700), ==, 0);
    fake_expect_error(&fh, "metadata_bytes");
    g_assert_cmpint(rmdir(path), ==, 0);
    fake_set(&fh, "metadata_bytes", "524288\n");

    /* And it recovers */
    ret = query(fh.qts);
    g_assert_cmpstr(check_answer(ret), ==, "dynamic");
    qobject_unref(ret);
    fake_stop(&fh);
}

static void test_fake_host_loop(void)
{
    FakeHost fh;

    fake_start(&fh, "-machine none");
    run_loop(fh.qts);
    fake_stop(&fh);
}

static void test_skip(gconstpointer reason)
{
    g_test_skip(reason);
}

int main(int argc, char **argv)
{
    const char *skip = NULL;
    int status = 0;

    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/tdx-pamt/schema", test_schema);
    qtest_add_data_func("/tdx-pamt/answer/none", "-machine none",
                        test_answer);
    if (qtest_has_machine("q35") && qtest_has_accel("tcg")) {
        qtest_add_data_func("/tdx-pamt/answer/q35-tcg",
                            "-machine q35 -accel tcg -S", test_answer);
        qtest_add_data_func("/tdx-pamt/hmp/q35-tcg",
                            "-machine q35 -accel tcg", test_hmp);
    }
    qtest_add_data_func("/tdx-pamt/hmp/none", "-machine none", test_hmp);
    qtest_add_func("/tdx-pamt/bad-arguments", test_bad_arguments);
    qtest_add_func("/tdx-pamt/loop", test_loop);

    fake_wrapper = g_getenv("TDX_DPAMT_FAKE_HOST");
    if (fake_wrapper) {
        char *probe[] = { (char *)fake_wrapper, (char *)"--probe", NULL };

        if (!g_spawn_sync(NULL, probe, NULL, 0, NULL, NULL, NULL, NULL,
                          &status, NULL)) {
            status = -1;
        }
    }
    if (!fake_wrapper) {
        skip = "TDX_DPAMT_FAKE_HOST is not set (run through run-qtests.sh)";
    } else if (status != 0) {
        skip = "cannot mount a fake /sys/devices/faux/tdx_host/pamt "
               "(needs root, unshare and /sys/devices/faux)";
    } else if (!qtest_has_machine("q35") || !qtest_has_accel("tcg")) {
        skip = "needs q35 and TCG";
    }
    if (skip) {
        qtest_add_data_func("/tdx-pamt/fake-host", skip, test_skip);
    } else {
        qtest_add_func("/tdx-pamt/fake-host/dynamic", test_fake_host);
        qtest_add_func("/tdx-pamt/fake-host/live", test_fake_host_live);
        qtest_add_func("/tdx-pamt/fake-host/errors", test_fake_host_errors);
        qtest_add_func("/tdx-pamt/fake-host/loop", test_fake_host_loop);
    }

    return g_test_run();
}
