# Builds microq-xs-host (host.c) from the XS sources in @agoric/xsnap.
# scripts/setup.mjs runs it as:
#   make -f tools/xs/host/host.mk XSNAP=<absolute path of node_modules/@agoric/xsnap> BUILD_DIR=<absolute path> -j2
# and the program is written to $(BUILD_DIR)/microq-xs-host.

ifeq ($(XSNAP),)
$(error XSNAP is not set: pass XSNAP=<absolute path of node_modules/@agoric/xsnap>)
endif
ifeq ($(BUILD_DIR),)
$(error BUILD_DIR is not set: pass BUILD_DIR=<absolute path of the output folder>)
endif

HOST_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
MODDABLE = $(XSNAP)/moddable
XS_DIR = $(MODDABLE)/xs
XSNAP_SOURCES = $(XSNAP)/xsnap-native/xsnap/sources
DATA_MODULES = $(MODDABLE)/modules/data
OBJECT_DIR = $(BUILD_DIR)/objects
PROGRAM = $(BUILD_DIR)/microq-xs-host

# The engine options of the xsnap CLI's release build (xsnap.mk in @agoric/xsnap 0.15.0),
# so that this host and the CLI run code alike.
C_OPTIONS = \
	-fno-common \
	-DINCLUDE_XSPLATFORM \
	-DXSPLATFORM=\"xsnapPlatform.h\" \
	-DmxLockdown=1 \
	-DmxMetering=1 \
	-DmxParse=1 \
	-DmxProfile=1 \
	-DmxRun=1 \
	-DmxSloppy=1 \
	-DmxSnapshot=1 \
	-DmxRegExpUnicodePropertyEscapes=1 \
	-DmxStringNormalize=1 \
	-DmxMinusZero=1 \
	-DmxBoundsCheck=1 \
	-O3 \
	-Wno-misleading-indentation \
	-Wno-implicit-fallthrough \
	-I$(XS_DIR)/includes \
	-I$(XS_DIR)/platforms \
	-I$(XS_DIR)/sources \
	-I$(XSNAP_SOURCES)
LIBRARIES = -ldl -lm -lpthread

SOURCES = \
	$(wildcard $(XS_DIR)/sources/*.c) \
	$(DATA_MODULES)/base64/modBase64.c \
	$(DATA_MODULES)/text/decoder/textdecoder.c \
	$(DATA_MODULES)/text/encoder/textencoder.c \
	$(XSNAP_SOURCES)/xsnapPlatform.c \
	$(HOST_DIR)/host.c
OBJECTS = $(addprefix $(OBJECT_DIR)/,$(notdir $(SOURCES:.c=.o)))
HEADERS = \
	$(wildcard $(XS_DIR)/includes/*.h) \
	$(wildcard $(XS_DIR)/platforms/*.h) \
	$(wildcard $(XS_DIR)/sources/*.h) \
	$(wildcard $(XSNAP_SOURCES)/*.h)

vpath %.c $(sort $(dir $(SOURCES)))

$(PROGRAM): $(OBJECTS)
	$(CC) -rdynamic $(OBJECTS) $(LIBRARIES) -o $@

$(OBJECT_DIR)/%.o: %.c $(HEADERS) | $(OBJECT_DIR)
	$(CC) $< $(C_OPTIONS) -c -o $@

$(OBJECT_DIR):
	mkdir -p $@

clean:
	rm -rf $(OBJECT_DIR) $(PROGRAM)

.PHONY: clean
