// SPDX-License-Identifier: MIT
/* xdpmux status: what the device daemon (xdpmuxd) says of itself and of the
 * programs it serves. */
#include <stdio.h>
#include <string.h>

#include "../lib/daemon/conn.h"
#include "cli.h"

int daemon_status(const char *dev, struct xmd_status_reply *r)
{
	return xmd_status_query(dev, r);
}

bool daemon_serves(const char *dev)
{
	static struct xmd_status_reply r;

	return daemon_status(dev, &r) == 0;
}

void daemon_status_json(struct json *j, const struct xmd_status_reply *r)
{
	json_obj_begin(j, "daemon");
	json_u64(j, "pid", r->pid);
	json_u64(j, "queues", r->n_queues);
	json_u64(j, "frames_per_queue", r->frames);
	json_obj_begin(j, "frames");
	json_u64(j, "free", r->free);
	json_u64(j, "fill_ring", r->fill_ring);
	json_u64(j, "kernel", r->kernel);
	json_u64(j, "clients_rx", r->client_rx);
	json_u64(j, "clients_tx", r->client_tx);
	json_u64(j, "quarantine", r->quarantine);
	json_obj_end(j);
	json_u64(j, "bad_returns", r->bad_returns);
	json_u64(j, "reclaimed", r->reclaimed);
	json_arr_begin(j, "clients");
	for (uint32_t i = 0; i < r->n_clients && i < XMD_STATUS_MAX_CLIENTS; i++) {
		const struct xmd_status_client *c = &r->c[i];
		char comm[17];

		memcpy(comm, c->comm, 16);
		comm[16] = 0;
		json_obj_begin(j, NULL);
		json_u64(j, "pid", c->pid);
		json_str(j, "program", comm);
		json_u64(j, "uid", c->uid);
		json_u64(j, "owner_slot", c->owner_slot);
		json_u64(j, "sockets", c->sockets);
		json_u64(j, "frames_held", c->frames_held);
		json_u64(j, "bindings", c->bindings);
		json_u64(j, "tx_queued", c->tx_queued);
		json_u64(j, "give_pending", c->give_pending);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

void daemon_status_print(FILE *f, const char *dev, const struct xmd_status_reply *r)
{
	struct table *t = table_new();

	fprintf(f, "\n%s: xdpmuxd pid %u, %u queue(s) of %u frames: %llu free, "
		"%llu fill ring, %llu kernel, %llu programs' rx, %llu programs' tx, "
		"%llu quarantined; %llu bad returns, %llu reclaimed\n",
		dev, r->pid, r->n_queues, r->frames, (unsigned long long)r->free,
		(unsigned long long)r->fill_ring, (unsigned long long)r->kernel,
		(unsigned long long)r->client_rx, (unsigned long long)r->client_tx,
		(unsigned long long)r->quarantine, (unsigned long long)r->bad_returns,
		(unsigned long long)r->reclaimed);
	table_col(t, "PID", true);
	table_col(t, "PROGRAM", false);
	table_col(t, "UID", true);
	table_col(t, "SLOT", true);
	table_col(t, "SOCKETS", true);
	table_col(t, "FRAMES", true);
	table_col(t, "BINDINGS", true);
	for (uint32_t i = 0; i < r->n_clients && i < XMD_STATUS_MAX_CLIENTS; i++) {
		const struct xmd_status_client *c = &r->c[i];

		table_cell(t, "%u", c->pid);
		table_cell(t, "%.16s", c->comm);
		table_cell(t, "%u", c->uid);
		table_cell(t, "%u", c->owner_slot);
		table_cell(t, "%u", c->sockets);
		table_cell(t, "%llu", (unsigned long long)c->frames_held);
		table_cell(t, "%u", c->bindings);
	}
	table_print(t, f);
	table_free(t);
}
