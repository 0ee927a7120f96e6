/* sort: sorts pseudo-random 32-bit keys with an introsort-style quicksort (median of three,
 * insertion sort for small ranges) and then a bottom-up merge sort of 64-bit records;
 * argv[1] = number of elements. Prints checksums of both sorted arrays. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

static uint64_t state = 88172645463325252ULL;
static uint64_t next(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }

static void insertion(int32_t *a, long lo, long hi) {
    for (long i = lo + 1; i <= hi; i++) {
        int32_t v = a[i];
        long j = i - 1;
        while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j--; }
        a[j + 1] = v;
    }
}

static void quicksort(int32_t *a, long lo, long hi) {
    while (hi - lo > 16) {
        long mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) { int32_t t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
        if (a[hi] < a[lo]) { int32_t t = a[hi]; a[hi] = a[lo]; a[lo] = t; }
        if (a[hi] < a[mid]) { int32_t t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
        int32_t pivot = a[mid];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) { int32_t t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        /* recurse into the smaller half, loop on the larger */
        if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
        else { quicksort(a, i, hi); hi = j; }
    }
    insertion(a, lo, hi);
}

typedef struct { uint32_t key; uint32_t payload; } Record;

static void mergesort_records(Record *a, Record *tmp, long n) {
    for (long width = 1; width < n; width *= 2) {
        for (long lo = 0; lo < n; lo += 2 * width) {
            long mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            long i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = a[j].key < a[i].key ? a[j++] : a[i++];
            while (i < mid) tmp[k++] = a[i++];
            while (j < hi) tmp[k++] = a[j++];
        }
        Record *t = a; a = tmp; tmp = t;
        memcpy(tmp, a, sizeof(Record) * n);  /* keep both buffers equal: the result is in either */
    }
}

int main(int argc, char **argv) {
    long n = bench_size(argc, argv, 2000000);
    int32_t *keys = malloc(sizeof(int32_t) * n);
    Record *recs = malloc(sizeof(Record) * n), *tmp = malloc(sizeof(Record) * n);
    if (!keys || !recs || !tmp) { fprintf(stderr, "out of memory\n"); return 1; }
    for (long i = 0; i < n; i++) {
        keys[i] = (int32_t)next();
        recs[i].key = (uint32_t)(next() % 1000003);
        recs[i].payload = (uint32_t)i;
    }
    bench_start();
    quicksort(keys, 0, n - 1);
    mergesort_records(recs, tmp, n);
    bench_end();
    uint64_t h1 = 1469598103934665603ULL, h2 = 1469598103934665603ULL;
    long bad = 0;
    for (long i = 0; i < n; i++) {
        h1 = (h1 ^ (uint32_t)keys[i]) * 1099511628211ULL;
        h2 = (h2 ^ recs[i].payload) * 1099511628211ULL;
        if (i && (keys[i - 1] > keys[i] || recs[i - 1].key > recs[i].key)) bad++;
        if (i && recs[i - 1].key == recs[i].key && recs[i - 1].payload > recs[i].payload) bad++;  /* stable */
    }
    printf("n=%ld keys=%016llx records=%016llx out-of-order=%ld\n", n, (unsigned long long)h1, (unsigned long long)h2, bad);
    free(keys); free(recs); free(tmp);
    return bad != 0;
}
