#include "textflag.h"

// func setRounding(mode uint32)
// Sets the SSE rounding-control bits (MXCSR bits 13-14) to mode&3, keeping
// the other bits, as RandomX's CFROUND instruction does.
TEXT ·setRounding(SB), NOSPLIT, $8-4
	STMXCSR 0(SP)
	MOVL 0(SP), AX
	ANDL $0xFFFF9FFF, AX
	MOVL mode+0(FP), BX
	ANDL $3, BX
	SHLL $13, BX
	ORL BX, AX
	MOVL AX, 0(SP)
	LDMXCSR 0(SP)
	RET

// func getMXCSR() uint32
TEXT ·getMXCSR(SB), NOSPLIT, $8-4
	STMXCSR 0(SP)
	MOVL 0(SP), AX
	MOVL AX, ret+0(FP)
	RET
