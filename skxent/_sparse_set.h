/*
 * One instruction set's CSR row kernels, for skxent/_sparse_simd.h, which
 * includes this under that set's target with SKX_SP_ISA and SKX_SP_SET (the
 * set's name in the functions' names) defined: its primitives, the body for
 * 32- and 64-bit indices, then the primitives removed.
 */
#include "_sparse_isa.h"
#define SKX_SP_IDX int
#define SKX_SP_SFX SKX_SP_CAT(SKX_SP_SET, i32)
#include "_sparse_body.h"
#undef SKX_SP_IDX
#undef SKX_SP_SFX
#define SKX_SP_IDX long long
#define SKX_SP_SFX SKX_SP_CAT(SKX_SP_SET, i64)
#include "_sparse_body.h"
#undef SKX_SP_IDX
#undef SKX_SP_SFX
#define SKX_SP_UNDEF
#include "_sparse_isa.h"
#undef SKX_SP_UNDEF
