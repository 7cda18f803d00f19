/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * docs/protocol.md against proto/proto.h's lists: the method table (name,
 * role, params), the "### name — role" sections and the error table (code,
 * name) hold exactly what PROTO_METHODS and PROTO_ERRORS hold, so the doc
 * cannot drift from the protocol. Reads $top_srcdir/docs/protocol.md, or the
 * file given as the first argument.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "tap.h"

#define MAX_ROWS   64
#define MAX_PARAMS 16
#define MAX_CELL   128

struct row {
        char name[MAX_CELL];            /* method name, or the code as text */
        char role[MAX_CELL];            /* method role word, or the error name */
        char params[MAX_PARAMS][MAX_CELL];
        size_t n_params;
        bool seen;                      /* matched by an entry of the lists */
};

struct doc {
        struct row methods[MAX_ROWS], errors[MAX_ROWS], sections[MAX_ROWS];
        size_t n_methods, n_errors, n_sections;
};

/* The doc's word for a role (Authorization, the method table, the headings). */
static const char *role_word(enum proto_role role)
{
        switch (role) {
        case PROTO_ROLE_NONE:  return "anyone";
        case PROTO_ROLE_READ:  return "read";
        case PROTO_ROLE_ADMIN: return "change";
        }
        return "?";
}

static void trim_into(char *dst, const char *s, size_t len)
{
        while (len && (*s == ' ' || *s == '\t')) {
                s++;
                len--;
        }
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
                len--;
        if (len >= MAX_CELL)
                len = MAX_CELL - 1;
        memcpy(dst, s, len);
        dst[len] = '\0';
}

/* Split "| a | b | c |" into up to max trimmed cells; returns how many. */
static size_t split_row(const char *line, char cells[][MAX_CELL], size_t max)
{
        size_t n = 0;
        if (*line != '|')
                return 0;
        const char *p = line + 1;
        while (n < max) {
                const char *bar = strchr(p, '|');
                if (!bar)
                        break;
                trim_into(cells[n++], p, (size_t)(bar - p));
                p = bar + 1;
        }
        return n;
}

/* "`a`" -> "a"; anything else as is. */
static void unquote(char *s)
{
        size_t len = strlen(s);
        if (len >= 2 && s[0] == '`' && s[len - 1] == '`') {
                memmove(s, s + 1, len - 2);
                s[len - 2] = '\0';
        }
}

/* Every `word` of a cell ("`size`, `pages`"); "—" has none. */
static void backticked(const char *cell, struct row *r)
{
        const char *p = cell;
        while ((p = strchr(p, '`')) && r->n_params < MAX_PARAMS) {
                const char *end = strchr(p + 1, '`');
                if (!end)
                        break;
                trim_into(r->params[r->n_params++], p + 1, (size_t)(end - p - 1));
                p = end + 1;
        }
}

enum table { TABLE_NONE, TABLE_METHODS, TABLE_ERRORS, TABLE_OTHER };

static int read_doc(const char *path, struct doc *d)
{
        FILE *f = fopen(path, "re");
        char line[4096], cells[8][MAX_CELL], section[MAX_CELL] = "";
        enum table table = TABLE_NONE;
        if (!f)
                return -1;
        while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = '\0';
                if (strncmp(line, "## ", 3) == 0)
                        trim_into(section, line + 3, strlen(line + 3));
                /* "### name — role" under Methods */
                const char *dash = strstr(line, " \xe2\x80\x94 ");
                if (strcmp(section, "Methods") == 0 && strncmp(line, "### ", 4) == 0 && dash &&
                    d->n_sections < MAX_ROWS) {
                        struct row *r = &d->sections[d->n_sections++];
                        trim_into(r->name, line + 4, (size_t)(dash - line - 4));
                        trim_into(r->role, dash + 5, strlen(dash + 5));
                        continue;
                }
                size_t n = split_row(line, cells, 8);
                if (n == 0) {
                        table = TABLE_NONE;
                        continue;
                }
                if (table == TABLE_NONE) {
                        /* A header row says which table this is. */
                        if (strcmp(section, "Methods") == 0 && n >= 3 && strcmp(cells[0], "method") == 0 &&
                            strcmp(cells[1], "role") == 0 && strcmp(cells[2], "params") == 0)
                                table = TABLE_METHODS;
                        else if (strcmp(section, "Errors") == 0 && n >= 2 && strcmp(cells[0], "code") == 0)
                                table = TABLE_ERRORS;
                        else
                                table = TABLE_OTHER;   /* skipped to its end */
                        continue;
                }
                if (strncmp(cells[0], "---", 3) == 0)
                        continue;
                if (table == TABLE_METHODS && d->n_methods < MAX_ROWS) {
                        struct row *r = &d->methods[d->n_methods++];
                        trim_into(r->name, cells[0], strlen(cells[0]));
                        unquote(r->name);
                        trim_into(r->role, cells[1], strlen(cells[1]));
                        backticked(cells[2], r);
                } else if (table == TABLE_ERRORS && d->n_errors < MAX_ROWS) {
                        struct row *r = &d->errors[d->n_errors++];
                        trim_into(r->name, cells[0], strlen(cells[0]));
                        trim_into(r->role, cells[1], strlen(cells[1]));
                        unquote(r->role);
                }
        }
        fclose(f);
        return 0;
}

static struct row *find(struct row *rows, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(rows[i].name, name) == 0)
                        return &rows[i];
        return NULL;
}

static bool has_param(const struct row *r, const char *name)
{
        for (size_t i = 0; i < r->n_params; i++)
                if (strcmp(r->params[i], name) == 0)
                        return true;
        return false;
}

static size_t count_params(const char *const *params)
{
        size_t n = 0;
        while (params[n])
                n++;
        return n;
}

static void check_lists(void)
{
        bool unique = true;
        for (size_t i = 0; i < PROTO_METHOD_COUNT; i++)
                for (size_t j = i + 1; j < PROTO_METHOD_COUNT; j++)
                        unique = unique && strcmp(proto_methods[i].name, proto_methods[j].name) != 0;
        ok(unique, "PROTO_METHODS: every name once");
        unique = true;
        for (size_t i = 0; i < PROTO_ERROR_COUNT; i++)
                for (size_t j = i + 1; j < PROTO_ERROR_COUNT; j++)
                        unique = unique && strcmp(proto_errors[i].name, proto_errors[j].name) != 0;
        ok(unique, "PROTO_ERRORS: every name once");
        is_int(proto_method_find(PROTO_M_WAIT), PROTO_METHOD_WAIT, "proto_method_find finds wait at its index");
        is_int(proto_method_find("no.such"), -1, "proto_method_find: unknown name -1");
        is_str(proto_error_name(PROTO_ERR_BUSY), "busy", "proto_error_name from the list");
        is_str(proto_error_name(-12), "unknown", "a negative errno is no protocol code");
}

static void check_methods(struct doc *d)
{
        for (size_t i = 0; i < PROTO_METHOD_COUNT; i++) {
                const struct proto_method_info *m = &proto_methods[i];
                struct row *r = find(d->methods, d->n_methods, m->name);
                ok(r, "method %s: in the method table", m->name);
                if (r) {
                        r->seen = true;
                        is_str(r->role, role_word(m->role), "method %s: role", m->name);
                        bool same = r->n_params == count_params(m->params);
                        for (const char *const *p = m->params; *p; p++)
                                if (!has_param(r, *p)) {
                                        printf("# %s: param %s not in the table\n", m->name, *p);
                                        same = false;
                                }
                        ok(same, "method %s: params (%zu in the table, %zu in the list)", m->name, r->n_params,
                           count_params(m->params));
                }

                struct row *s = find(d->sections, d->n_sections, m->name);
                ok(s, "method %s: has a \"### %s — %s\" section", m->name, m->name, role_word(m->role));
                if (s) {
                        s->seen = true;
                        is_str(s->role, role_word(m->role), "method %s: role in its heading", m->name);
                }
        }
        for (size_t i = 0; i < d->n_methods; i++)
                ok(d->methods[i].seen, "method table row %s: in PROTO_METHODS", d->methods[i].name);
        for (size_t i = 0; i < d->n_sections; i++)
                ok(d->sections[i].seen, "section ### %s: in PROTO_METHODS", d->sections[i].name);
}

static void check_errors(struct doc *d)
{
        for (size_t i = 0; i < PROTO_ERROR_COUNT; i++) {
                char code[16];
                snprintf(code, sizeof code, "%d", proto_errors[i].code);
                struct row *r = find(d->errors, d->n_errors, code);
                ok(r, "error %s: in the error table", code);
                if (!r)
                        continue;
                r->seen = true;
                is_str(r->role, proto_errors[i].name, "error %s: name", code);
        }
        for (size_t i = 0; i < d->n_errors; i++)
                ok(d->errors[i].seen, "error table row %s: in PROTO_ERRORS", d->errors[i].name);
}

int main(int argc, char **argv)
{
        static struct doc d;
        char path[4096];
        const char *top = getenv("top_srcdir");
        if (argc > 1)
                snprintf(path, sizeof path, "%s", argv[1]);
        else
                snprintf(path, sizeof path, "%s/docs/protocol.md", top ? top : "..");

        check_lists();
        ok(read_doc(path, &d) == 0, "read %s", path);
        ok(d.n_methods > 0, "found the method table (%zu rows)", d.n_methods);
        ok(d.n_errors > 0, "found the error table (%zu rows)", d.n_errors);
        check_methods(&d);
        check_errors(&d);
        return tap_done();
}
