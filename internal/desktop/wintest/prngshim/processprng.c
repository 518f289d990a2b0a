/*
 * A stand-in for bcryptprimitives.dll, for the Wine test only (never
 * shipped). Every Go >= 1.22 Windows binary loads bcryptprimitives.dll from
 * system32 at start and calls its ProcessPrng for all randomness; Wine 8.0
 * (Debian 12) has no such DLL, so without this shim a Go .exe dies before
 * main. ProcessPrng is implemented on advapi32's RtlGenRandom
 * (SystemFunction036), which Wine has.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	/* RtlGenRandom takes a ULONG length: feed larger requests in chunks. */
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
