#include "nn/modules/flatten.h"
