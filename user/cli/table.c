// SPDX-License-Identifier: MIT
/* Aligned columns for human output: a header row, then the cells, each
 * column as wide as its widest cell, numbers right-aligned. */
#define _GNU_SOURCE /* vasprintf */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define TABLE_COLS 16

struct table {
	size_t ncols;
	const char *name[TABLE_COLS];
	bool right[TABLE_COLS];
	size_t width[TABLE_COLS];
	char **cells;   /* row-major, ncols per row */
	size_t ncells, cap;
};

struct table *table_new(void)
{
	return calloc(1, sizeof(struct table));
}

void table_col(struct table *t, const char *name, bool right)
{
	if (!t || t->ncols == TABLE_COLS)
		return;
	t->name[t->ncols] = name;
	t->right[t->ncols] = right;
	t->width[t->ncols] = strlen(name);
	t->ncols++;
}

void table_cell(struct table *t, const char *fmt, ...)
{
	char **grown, *s = NULL;
	size_t col;
	va_list ap;

	if (!t || !t->ncols)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (t->ncells == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;

		grown = realloc(t->cells, cap * sizeof(*grown));
		if (!grown) {
			free(s);
			return;
		}
		t->cells = grown;
		t->cap = cap;
	}
	if (!s)
		s = strdup("?");
	col = t->ncells % t->ncols;
	if (s && strlen(s) > t->width[col])
		t->width[col] = strlen(s);
	t->cells[t->ncells++] = s;
}

static void print_row(const struct table *t, const char *const *row, size_t n, FILE *f)
{
	size_t c;

	for (c = 0; c < n; c++) {
		const char *s = row[c] ? row[c] : "";
		bool last = c + 1 == t->ncols;
		int w = (int)t->width[c];

		if (t->right[c])
			fprintf(f, "%*s", w, s);
		else if (last)
			fputs(s, f);
		else
			fprintf(f, "%-*s", w, s);
		fputs(last ? "\n" : "  ", f);
	}
}

void table_print(struct table *t, FILE *f)
{
	size_t r;

	if (!t)
		return;
	print_row(t, t->name, t->ncols, f);
	for (r = 0; r + t->ncols <= t->ncells; r += t->ncols)
		print_row(t, (const char *const *)t->cells + r, t->ncols, f);
}

void table_free(struct table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
