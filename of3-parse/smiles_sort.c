/* smiles_sort.c: std::sort as libstdc++ implements it (introsort: median-of-three quicksort
 * down to runs of 16, heapsort past 2*log2(n) levels, then insertion sort). It is not stable,
 * and RDKit's ring order, hence its kekulization, depends on how it leaves equal keys; the
 * SMILES reader sorts rings with it as RDKit's removeExtraRings does. */
#include <string.h>

#include "smiles_internal.h"

#define THRESHOLD 16

static void swap_items(sm_sort_item_t *a, sm_sort_item_t *b)
{
	sm_sort_item_t t = *a;
	*a = *b;
	*b = t;
}

static void insertion_sort(sm_sort_item_t *r, int first, int last)
{
	for (int i = first + 1; i < last; i++) {
		sm_sort_item_t v = r[i];
		if (v.key < r[first].key) {
			memmove(&r[first + 1], &r[first], sizeof *r * (size_t)(i - first));
			r[first] = v;
		} else {
			int j = i;
			while (v.key < r[j - 1].key) {
				r[j] = r[j - 1];
				j--;
			}
			r[j] = v;
		}
	}
}

/* std::__adjust_heap */
static void adjust_heap(sm_sort_item_t *r, int hole, int len, sm_sort_item_t v)
{
	int top = hole, child = hole;
	while (child < (len - 1) / 2) {
		child = 2 * (child + 1);
		if (r[child].key < r[child - 1].key)
			child--;
		r[hole] = r[child];
		hole = child;
	}
	if ((len & 1) == 0 && child == (len - 2) / 2) {
		child = 2 * (child + 1);
		r[hole] = r[child - 1];
		hole = child - 1;
	}
	int parent = (hole - 1) / 2;
	while (hole > top && r[parent].key < v.key) {
		r[hole] = r[parent];
		hole = parent;
		parent = (hole - 1) / 2;
	}
	r[hole] = v;
}

/* std::__partial_sort over the whole range: make_heap, then sort_heap */
static void heap_sort(sm_sort_item_t *r, int len)
{
	for (int parent = (len - 2) / 2;; parent--) {
		adjust_heap(r, parent, len, r[parent]);
		if (parent == 0)
			break;
	}
	for (int last = len - 1; last > 0; last--) {
		sm_sort_item_t v = r[last];
		r[last] = r[0];
		adjust_heap(r, 0, last, v);
	}
}

static void move_median_to_first(sm_sort_item_t *r, int result, int a, int b, int c)
{
	if (r[a].key < r[b].key) {
		if (r[b].key < r[c].key)
			swap_items(&r[result], &r[b]);
		else if (r[a].key < r[c].key)
			swap_items(&r[result], &r[c]);
		else
			swap_items(&r[result], &r[a]);
	} else if (r[a].key < r[c].key) {
		swap_items(&r[result], &r[a]);
	} else if (r[b].key < r[c].key) {
		swap_items(&r[result], &r[c]);
	} else {
		swap_items(&r[result], &r[b]);
	}
}

static void introsort_loop(sm_sort_item_t *r, int first, int last, int depth)
{
	while (last - first > THRESHOLD) {
		if (depth == 0) {
			heap_sort(r + first, last - first);
			return;
		}
		depth--;
		int mid = first + (last - first) / 2;
		move_median_to_first(r, first, first + 1, mid, last - 1);
		int lo = first + 1, hi = last; /* std::__unguarded_partition around r[first] */
		for (;;) {
			while (r[lo].key < r[first].key)
				lo++;
			hi--;
			while (r[first].key < r[hi].key)
				hi--;
			if (!(lo < hi))
				break;
			swap_items(&r[lo], &r[hi]);
			lo++;
		}
		introsort_loop(r, lo, last, depth);
		last = lo;
	}
}

void sm_std_sort(sm_sort_item_t *r, int n)
{
	if (n < 2)
		return;
	int lg = 0;
	while ((1 << (lg + 1)) <= n)
		lg++;
	introsort_loop(r, 0, n, 2 * lg);
	if (n > THRESHOLD) {
		insertion_sort(r, 0, THRESHOLD);
		for (int i = THRESHOLD; i < n; i++) { /* unguarded: a smaller key lies before */
			sm_sort_item_t v = r[i];
			int j = i;
			while (v.key < r[j - 1].key) {
				r[j] = r[j - 1];
				j--;
			}
			r[j] = v;
		}
	} else {
		insertion_sort(r, 0, n);
	}
}
