/* a64_decodetree_ctx.h - the DisasContext of a64_decodetree_test.c. */
#ifndef EMU_TESTS_UNIT_A64_DECODETREE_CTX_H
#define EMU_TESTS_UNIT_A64_DECODETREE_CTX_H
typedef struct DisasContext {
    const char *last;    /* name of the trans_ function that accepted */
    int rejects;         /* trans_REJECT calls */
    int v[4];            /* fields seen by the accepting function */
} DisasContext;
#endif
