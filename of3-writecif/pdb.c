/* pdb.c: PDB text of one sample (pdb.h). */
#include "pdb.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int of3_wc_hy36(char *buf, int width, long v)
{
	long p10 = 10, p36 = 1; /* 10^width, 36^(width-1) */
	for (int i = 1; i < width; i++)
		p10 *= 10, p36 *= 36;
	if (v < p10) {
		if (v <= -p10 / 10)
			return -1;
		snprintf(buf, (size_t)width + 1, "%*ld", width, v);
		return 0;
	}
	const char *digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	v -= p10;
	if (v >= 26 * p36) {
		v -= 26 * p36;
		digits = "0123456789abcdefghijklmnopqrstuvwxyz";
		if (v >= 26 * p36)
			return -1;
	}
	v += 10 * p36;
	for (int i = width - 1; i >= 0; i--, v /= 36)
		buf[i] = digits[v % 36];
	buf[width] = 0;
	return 0;
}

/* The chain of atom a ends there and is a polymer: a TER record follows it. */
static int ends_polymer(const of3_wc_query_t *q, int a)
{
	return q->atom_molecule_type_id[a] != OF3_MOL_LIGAND &&
	       (a + 1 == q->n_atom || strcmp(q->atom_chain_id[a], q->atom_chain_id[a + 1]));
}

int of3_wc_pdb_check(const of3_wc_query_t *q)
{
	char buf[8];
	long serial = 0;
	for (int a = 0; a < q->n_atom; a++) {
		const char *why = NULL;
		serial += 1 + ends_polymer(q, a);
		if (strlen(q->atom_chain_id[a]) > 1)
			why = "its chain id has more than the one character the PDB format holds";
		else if (!*q->atom_name[a] || strlen(q->atom_name[a]) > 4)
			why = "its name does not have 1 to 4 characters";
		else if (strlen(q->atom_element[a]) > 2)
			why = "its element has more than 2 characters";
		else if (q->atom_charge[a] < -9 || q->atom_charge[a] > 9)
			why = "its charge is not one digit";
		else if (of3_wc_hy36(buf, 4, q->atom_res_id[a]) < 0)
			why = "its residue number does not fit the 4 columns of hybrid-36";
		else if (of3_wc_hy36(buf, 5, serial) < 0)
			why = "there are more atoms than hybrid-36 serial numbers";
		if (why)
			return of3_err(OF3_ERR_INPUT,
			               "query '%s': atom %d (%s %s %d %s): %s; --pdb cannot write "
			               "this query (the mmCIF files can: leave out --pdb)",
			               q->name, a + 1, q->atom_chain_id[a], q->atom_res_name[a],
			               q->atom_res_id[a], q->atom_name[a], why);
	}
	int64_t n = (int64_t)q->n_sample * q->n_atom * 3;
	for (int64_t i = 0; i < n; i++) {
		/* a margin below the rounding edge, so "%8.3f" never needs a ninth column */
		if (q->x[i] >= -999.9994f && q->x[i] <= 9999.9994f)
			continue;
		int a = (int)(i / 3 % q->n_atom);
		return of3_err(
		        OF3_ERR_INPUT,
		        "query '%s': sample %lld, atom %d (%s %s %d %s): coordinate %.3f is "
		        "outside the PDB format's -999.999..9999.999; --pdb cannot write this "
		        "query (the mmCIF files can: leave out --pdb)",
		        q->name, (long long)(i / (3 * (int64_t)q->n_atom) + 1), a + 1,
		        q->atom_chain_id[a], q->atom_res_name[a], q->atom_res_id[a],
		        q->atom_name[a], q->x[i]);
	}
	return OF3_OK;
}

/* The bonds PDB files list as CONECT: those of HETATM atoms and the explicit links between
 * residues (struct_conn's), each from both ends, partners in serial order. */
static int conect(of3_sbuf_t *o, const of3_wc_query_t *q, const long *serial)
{
	int *deg = calloc((size_t)q->n_atom + 1, sizeof *deg);
	int *start = malloc(((size_t)q->n_atom + 1) * sizeof *start);
	int *nb = malloc(((size_t)q->n_bond * 2 + 1) * sizeof *nb);
	if (!deg || !start || !nb) {
		free(deg), free(start), free(nb);
		o->failed = 1;
		return OF3_ERR_NOMEM;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < q->n_bond; k++) {
			int a = q->atom_bonds[3 * k], b = q->atom_bonds[3 * k + 1];
			if (a == b || (!q->atom_hetero[a] && !q->atom_hetero[b] &&
			               !of3_wc_bond_explicit(q, k)))
				continue;
			if (pass) {
				nb[start[a] + deg[a]++] = b;
				nb[start[b] + deg[b]++] = a;
			} else {
				deg[a]++, deg[b]++;
			}
		}
		if (pass)
			break;
		start[0] = 0;
		for (int a = 0; a < q->n_atom; a++)
			start[a + 1] = start[a] + deg[a], deg[a] = 0;
	}
	for (int a = 0; a < q->n_atom; a++) {
		int *p = nb + start[a];
		for (int i = 1; i < deg[a]; i++) /* insertion sort: a handful of partners */
			for (int j = i; j > 0 && p[j - 1] > p[j]; j--) {
				int t = p[j];
				p[j] = p[j - 1], p[j - 1] = t;
			}
		for (int i = 0; i < deg[a]; i++) {
			char s[8];
			if (i % 4 == 0) {
				of3_wc_hy36(s, 5, serial[a]);
				of3_sbuf_printf(o, "%sCONECT%s", i ? "\n" : "", s);
			}
			of3_wc_hy36(s, 5, serial[p[i]]);
			of3_sbuf_printf(o, "%s", s);
		}
		if (deg[a])
			of3_sbuf_printf(o, "\n");
	}
	free(deg), free(start), free(nb);
	return OF3_OK;
}

int of3_wc_pdb(of3_sbuf_t *o, const of3_wc_query_t *q, const float *x, const float *plddt)
{
	long *serial = malloc(((size_t)q->n_atom + 1) * sizeof *serial), next = 1;
	if (!serial)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int a = 0; a < q->n_atom; a++) {
		char num[8], seq[8], name[8], res[4], elem[3], charge[3] = "  ";
		const char *an = q->atom_name[a], *el = q->atom_element[a];
		serial[a] = next++;
		of3_wc_hy36(num, 5, serial[a]);
		of3_wc_hy36(seq, 4, q->atom_res_id[a]);
		/* names of one-letter elements start in column 14 unless they fill all four */
		snprintf(name, sizeof name, "%s%s", strlen(el) == 1 && strlen(an) < 4 ? " " : "",
		         an);
		snprintf(res, sizeof res, "%.3s", q->atom_res_name[a]);
		snprintf(elem, sizeof elem, "%.2s", el);
		for (char *c = elem; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		if (q->atom_charge[a])
			snprintf(charge, sizeof charge, "%d%c", abs(q->atom_charge[a]) % 10,
			         q->atom_charge[a] > 0 ? '+' : '-');
		const char *chain = *q->atom_chain_id[a] ? q->atom_chain_id[a] : " ";
		of3_sbuf_printf(o,
		                "%-6s%5s %-4s %3s %.1s%4s    %8.3f%8.3f%8.3f%6.2f%6.2f          "
		                "%2s%2s\n",
		                q->atom_hetero[a] ? "HETATM" : "ATOM", num, name, res, chain, seq,
		                x[3 * a], x[3 * a + 1], x[3 * a + 2], 1.0, plddt[a], elem, charge);
		if (ends_polymer(q, a)) {
			of3_wc_hy36(num, 5, next++);
			of3_sbuf_printf(o, "TER   %5s      %3s %.1s%4s\n", num, res, chain, seq);
		}
	}
	int rc = conect(o, q, serial);
	free(serial);
	if (rc < 0)
		return of3_sbuf_status(o);
	of3_sbuf_printf(o, "END\n");
	return of3_sbuf_status(o);
}
