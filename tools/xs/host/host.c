/*
 * microq-xs-host: runs one ES module on the XS engine, like `xsnap -m`, and adds
 * globals that read the XS heap counters and switch the garbage collector, so
 * that tools/xs/allocation.ts can count what a call allocates.
 *
 * It links the same XS sources, build flags and platform file (xsnapPlatform.c,
 * for module loading, the promise loop and memory) as the xsnap CLI of
 * @agoric/xsnap, so both engines run code the same way.
 *
 * Globals:
 * - print(...values) writes the values, separated by spaces, and a newline to stdout.
 * - gc() runs a full collection, unless collection is disabled.
 * - enableGarbageCollection(enabled) enables or disables the garbage collector.
 * - heapSlotCount() returns the slots in use after the last collection plus those allocated since.
 * - heapChunkBytesInUse() returns the chunk bytes in use after the last collection plus those allocated since.
 * - heapChunkBytesTaken() returns the chunk bytes handed out from the heap blocks since the last compaction.
 * - heapArrayBufferBytes() returns the byte lengths of all ArrayBuffers whose slots are in
 *   use, summed. After gc() that is the data of the live ArrayBuffers, without the chunk
 *   headers, code and other chunks that heapChunkBytesInUse() also counts.
 * - resetMeter(limit, index) returns the computation meter and sets it to index. It ignores the limit.
 * - performance.now() returns milliseconds from a monotonic clock.
 * - readOnlyResource(path) reads the file at path into memory outside the XS heaps
 *   and returns a petrified host buffer over it, as Moddable's Resource does for
 *   data in flash. Typed arrays and DataView can view it, and a write through them
 *   throws a TypeError. A relative path is resolved from the current folder.
 * - Base64, TextDecoder and TextEncoder are the Moddable modules that xsnap also installs.
 *
 * The counter functions return numbers, which XS keeps in the stack slot of the
 * result, so reading a counter allocates nothing itself.
 */
#include "xsAll.h"
#include "xs.h"

/* Defined in xsnapPlatform.c. */
extern void fxRunModuleFile(txMachine* the, txString path);
extern void fxRunLoop(txMachine* the);

/* Defined in Moddable's modules/data, compiled by host.mk. */
extern void modInstallBase64(xsMachine* the);
extern void modInstallTextDecoder(xsMachine* the);
extern void modInstallTextEncoder(xsMachine* the);

#define HOST_NAME "microq-xs-host"

/*
 * Writes an XS string to a file as UTF-8. XS stores strings as CESU-8, where a
 * character above U+FFFF is a pair of 3-byte surrogates (ED A0-AF xx, then
 * ED B0-BF xx). Such a pair becomes one 4-byte UTF-8 sequence here, and every
 * other byte is copied unchanged.
 */
static void writeUtf8(FILE* file, const char* text)
{
	const unsigned char* p = (const unsigned char*)text;
	while (*p) {
		int isSurrogatePair = (p[0] == 0xED) && ((p[1] & 0xF0) == 0xA0) && p[2]
			&& (p[3] == 0xED) && ((p[4] & 0xF0) == 0xB0) && p[5];
		if (isSurrogatePair) {
			unsigned int high = ((p[1] & 0x0F) << 6) | (p[2] & 0x3F);
			unsigned int low = ((p[4] & 0x0F) << 6) | (p[5] & 0x3F);
			unsigned int codePoint = 0x10000 + (high << 10) + low;
			fputc(0xF0 | (codePoint >> 18), file);
			fputc(0x80 | ((codePoint >> 12) & 0x3F), file);
			fputc(0x80 | ((codePoint >> 6) & 0x3F), file);
			fputc(0x80 | (codePoint & 0x3F), file);
			p += 6;
		}
		else {
			fputc(*p, file);
			p++;
		}
	}
}

static void host_print(xsMachine* the)
{
	xsIntegerValue count = xsToInteger(xsArgc);
	xsIntegerValue index;
	for (index = 0; index < count; index++) {
		if (index > 0)
			fputc(' ', stdout);
		/* xsToString converts a copy and returns its characters, which stay in
		   place because nothing allocates before they are written. */
		writeUtf8(stdout, xsToString(xsArg(index)));
	}
	fputc('\n', stdout);
	/* Flush each line, so that a reader on a pipe receives progress as it is printed. */
	fflush(stdout);
}

static void host_gc(xsMachine* the)
{
	xsCollectGarbage();
}

static void host_enableGarbageCollection(xsMachine* the)
{
	if (xsToInteger(xsArgc) < 1)
		xsTypeError("enableGarbageCollection(enabled): the argument is missing");
	xsEnableGarbageCollection(xsToBoolean(xsArg(0)));
}

static void host_heapSlotCount(xsMachine* the)
{
	xsResult = xsNumber((xsNumberValue)the->currentHeapCount);
}

static void host_heapChunkBytesInUse(xsMachine* the)
{
	xsResult = xsNumber((xsNumberValue)the->currentChunksSize);
}

/*
 * Sums the bump pointers of all chunk blocks. Every new chunk, and every chunk
 * extended in place at the end of its block, moves a bump pointer forward. Only
 * the compaction inside a full collection moves them back.
 */
static void host_heapChunkBytesTaken(xsMachine* the)
{
	xsNumberValue total = 0;
	txBlock* block = the->firstBlock;
	while (block) {
		total += (xsNumberValue)(block->current - ((txByte*)block + sizeof(txBlock)));
		block = block->nextBlock;
	}
	xsResult = xsNumber(total);
}

/*
 * Walks the slot heaps, like the sweep in xsMemory.c. A free slot has the undefined kind,
 * so right after a collection only live ArrayBuffers are counted. A host buffer (such as
 * readOnlyResource's) is a host object, not an ArrayBuffer, and is not counted.
 */
static void host_heapArrayBufferBytes(xsMachine* the)
{
	xsNumberValue total = 0;
	txSlot* heap = the->firstHeap;
	while (heap) {
		txSlot* slot = heap + 1;
		txSlot* limit = heap->value.reference;
		while (slot < limit) {
			if ((slot->kind == XS_ARRAY_BUFFER_KIND) && slot->value.arrayBuffer.address) {
				txSlot* info = slot->next;
				if (info && (info->kind == XS_BUFFER_INFO_KIND))
					total += (xsNumberValue)((info->value.bufferInfo.maxLength > info->value.bufferInfo.length)
						? info->value.bufferInfo.maxLength : info->value.bufferInfo.length);
			}
			slot++;
		}
		heap = heap->next;
	}
	xsResult = xsNumber(total);
}

/* Same contract as xsnap's resetMeter. The xsnap CLI also ignores the limit unless it runs with -l. */
static void host_resetMeter(xsMachine* the)
{
	if (xsToInteger(xsArgc) < 2)
		xsTypeError("resetMeter(limit, index): expected 2 arguments");
	xsResult = xsNumber((xsNumberValue)the->meterIndex);
	the->meterIndex = (txU4)xsToNumber(xsArg(1));
}

static void host_performanceNow(xsMachine* the)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	xsResult = xsNumber((xsNumberValue)now.tv_sec * 1000.0 + (xsNumberValue)now.tv_nsec / 1000000.0);
}

static void freeResource(void* data)
{
	c_free(data);
}

/*
 * The host object is created first, with freeResource as its destructor and no
 * data, so that the collector frees the bytes once the object is unreachable.
 * Until xsSetHostBuffer hands the bytes to the object, every failure frees them here.
 */
static void host_readOnlyResource(xsMachine* the)
{
	char* path;
	FILE* file;
	long size;
	void* data;

	if (xsToInteger(xsArgc) < 1)
		xsTypeError("readOnlyResource(path): the path is missing");
	xsResult = xsNewHostObject(freeResource);
	path = xsToString(xsArg(0));
	file = fopen(path, "rb");
	if (!file)
		xsUnknownError("readOnlyResource: cannot open %s: check that the file exists and is readable", path);
	if (fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) < 0 || fseek(file, 0, SEEK_SET) != 0) {
		fclose(file);
		xsUnknownError("readOnlyResource: cannot find the size of %s", path);
	}
	if (size == 0 || size > 0x7FFFFFFF) {
		fclose(file);
		xsRangeError("readOnlyResource: %s has %ld bytes: expected 1 to 2147483647", path, size);
	}
	data = c_malloc((size_t)size);
	if (!data) {
		fclose(file);
		xsUnknownError("readOnlyResource: no memory for the %ld bytes of %s", size, path);
	}
	if (fread(data, 1, (size_t)size, file) != (size_t)size) {
		c_free(data);
		fclose(file);
		xsUnknownError("readOnlyResource: cannot read the %ld bytes of %s", size, path);
	}
	fclose(file);
	xsSetHostBuffer(xsResult, data, (xsIntegerValue)size);
	xsPetrifyHostBuffer(xsResult);
}

static void defineFunction(xsMachine* the, xsSlot* target, char* name, xsCallback callback, xsIntegerValue length)
{
	xsVar(0) = xsNewHostFunction(callback, length);
	xsDefine(*target, xsID(name), xsVar(0), xsDontEnum);
}

static void defineGlobals(xsMachine* machine)
{
	xsBeginHost(machine);
	{
		xsVars(2);
		defineFunction(the, &xsGlobal, "print", host_print, 1);
		defineFunction(the, &xsGlobal, "gc", host_gc, 0);
		defineFunction(the, &xsGlobal, "enableGarbageCollection", host_enableGarbageCollection, 1);
		defineFunction(the, &xsGlobal, "heapSlotCount", host_heapSlotCount, 0);
		defineFunction(the, &xsGlobal, "heapChunkBytesInUse", host_heapChunkBytesInUse, 0);
		defineFunction(the, &xsGlobal, "heapChunkBytesTaken", host_heapChunkBytesTaken, 0);
		defineFunction(the, &xsGlobal, "heapArrayBufferBytes", host_heapArrayBufferBytes, 0);
		defineFunction(the, &xsGlobal, "resetMeter", host_resetMeter, 2);
		defineFunction(the, &xsGlobal, "readOnlyResource", host_readOnlyResource, 1);

		xsVar(1) = xsNewObject();
		defineFunction(the, &xsVar(1), "now", host_performanceNow, 0);
		xsDefine(xsGlobal, xsID("performance"), xsVar(1), xsDontEnum);

		modInstallBase64(the);
		modInstallTextDecoder(the);
		modInstallTextEncoder(the);
	}
	xsEndHost(machine);
}

/*
 * Prints the error that rejected the module, if any. xsnapPlatform.c stores
 * the rejection reason of the module run by fxRunModuleFile in mxException.
 * Returns 1 when there was one, else 0.
 */
static int reportModuleRejection(xsMachine* machine)
{
	int rejected = 0;
	xsBeginHost(machine);
	{
		if (mxException.kind != XS_UNDEFINED_KIND) {
			xsVars(1);
			xsVar(0) = mxException;
			mxException = xsUndefined;
			rejected = 1;
			fputs("uncaught exception: ", stderr);
			writeUtf8(stderr, xsToString(xsVar(0)));
			fputc('\n', stderr);
		}
	}
	xsEndHost(machine);
	return rejected;
}

static xsBooleanValue meterCallback(xsMachine* the, xsUnsignedValue index)
{
	/* Called only with a metering interval, and this host sets none. */
	return 1;
}

int main(int argc, char* argv[])
{
	/* The same sizes as the xsnap CLI uses. Both grow on demand. */
	xsCreation creation = {
		32 * 1024 * 1024,  /* initialChunkSize */
		4 * 1024 * 1024,   /* incrementalChunkSize */
		256 * 1024,        /* initialHeapCount */
		128 * 1024,        /* incrementalHeapCount */
		4096,              /* stackCount */
		32000,             /* initialKeyCount */
		8000,              /* incrementalKeyCount */
		1993,              /* nameModulo */
		127,               /* symbolModulo */
		8 * 1024 * 1024,   /* parserBufferSize */
		1993,              /* parserTableModulo */
	};
	char path[C_PATH_MAX];
	xsMachine* machine;
	int status = 0;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: %s MODULE\nRuns the ES module at path MODULE on XS.\n", HOST_NAME);
		return 2;
	}
	if (!c_realpath(argv[1], path)) {
		fprintf(stderr, "%s: module not found: %s\n", HOST_NAME, argv[1]);
		return 2;
	}

	fxInitializeSharedCluster();
	machine = xsCreateMachine(&creation, HOST_NAME, NULL);
	defineGlobals(machine);
	xsBeginMetering(machine, meterCallback, 0);
	{
		xsBeginHost(machine);
		{
			fxRunModuleFile(the, path);
		}
		xsEndHost(machine);
		fxRunLoop(machine);
		if (reportModuleRejection(machine))
			status = 1;
	}
	xsEndMetering(machine);
	fflush(stdout);

	/* abortStatus is set when XS aborts, for example when memory is full or the stack overflows. */
	if (machine->abortStatus)
		status = machine->abortStatus;
	xsDeleteMachine(machine);
	fxTerminateSharedCluster();
	return status;
}
