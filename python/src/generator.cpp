// loom.Generator: a random number generator of its own, with PyTorch's API
// (manual_seed, seed, initial_seed, get_state, set_state, device), for the
// factories' generator= argument.
//
// loom's random ops draw from the global counter-based Philox state of their
// device (core/random.h), a (seed, offset) pair whose offset advances with
// each draw. A Generator holds such a pair. draw_with() swaps it in for the
// device's global state, runs the op, keeps the advanced offset and puts the
// global state back, so the same seed gives the same numbers and the global
// stream goes on as if nothing had been drawn. The swap runs inside one
// binding call with the GIL held, which orders it with every other Python
// thread; only C++ code drawing from the same device's global state on a
// thread that runs without the GIL (a forward called from another Python
// thread) could draw inside it. Closing that needs random ops that take a
// state per call in core/.
#include <random>

#include "common.h"
#include "core/random.h"

namespace loom::python {

namespace {

constexpr uint64_t kDefaultSeed = 67280421310721ULL;  // PyTorch's, also loom's global default

struct Generator {
  Device device;
  PhiloxState state{kDefaultSeed, 0};
};

// Restores the global state of `slot` and keeps the generator's advance, even
// when the op throws.
class SwapState {
 public:
  SwapState(Generator& g, Device slot) : g_(g), slot_(slot), saved_(get_rng_state(slot)) {
    set_rng_state(slot_, g_.state);
  }
  ~SwapState() {
    g_.state = get_rng_state(slot_);
    set_rng_state(slot_, saved_);
  }
  SwapState(const SwapState&) = delete;
  SwapState& operator=(const SwapState&) = delete;

 private:
  Generator& g_;
  Device slot_;
  PhiloxState saved_;
};

std::string type_name(py::handle h) { return py::str(py::type::of(h).attr("__name__")).cast<std::string>(); }

}  // namespace

uint64_t to_seed(py::handle h, const char* op) {
  if (!PyLong_Check(h.ptr())) throw py::type_error(std::string(op) + "(): seed must be an int, not " + type_name(h));
  // PyTorch takes [-2^63, 2^64): a negative seed stands for seed + 2^64.
  const unsigned long long u = PyLong_AsUnsignedLongLong(h.ptr());
  if (!(u == static_cast<unsigned long long>(-1) && PyErr_Occurred())) return u;
  PyErr_Clear();
  int overflow = 0;
  const long long s = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
  if (overflow == 0 && !(s == -1 && PyErr_Occurred())) return static_cast<uint64_t>(s);
  PyErr_Clear();
  throw std::runtime_error(std::string(op) + "(): seed " + py::str(h).cast<std::string>() +
                           " is out of the range [-2**63, 2**64)");
}

Tensor draw_with(py::handle generator, Device out, Device draws_on, const char* op,
                 const std::function<Tensor()>& draw) {
  if (generator.is_none()) return draw();
  if (!py::isinstance<Generator>(generator))
    throw py::type_error(std::string(op) + "(): generator must be a loom.Generator, not " + type_name(generator));
  Generator& g = generator.cast<Generator&>();
  if (g.device.type != out.type)
    throw std::runtime_error(std::string(op) + "(): expected a '" + (out.is_cpu() ? "cpu" : "cuda") +
                             "' device type for generator but found '" + (g.device.is_cpu() ? "cpu" : "cuda") + "'");
  SwapState swap(g, draws_on);
  return draw();
}

void init_generator(py::module_& m) {
  py::class_<Generator>(m, "Generator",
                        "A random number generator for the generator= argument of loom.rand, randn, randint, "
                        "randperm, rand_like and randn_like. It holds a Philox (seed, offset) pair of its own: "
                        "the same seed gives the same numbers, and drawing from it leaves the global generator "
                        "(loom.manual_seed) untouched.")
      .def(py::init([](py::object device) { return Generator{to_device(device)}; }), py::arg("device") = "cpu")
      .def(
          "manual_seed",
          [](py::object self, py::handle seed) {
            self.cast<Generator&>().state = PhiloxState{to_seed(seed, "Generator.manual_seed"), 0};
            return self;
          },
          py::arg("seed"), "Seeds the generator (an int in [-2**63, 2**64)) and returns it.")
      .def(
          "seed",
          [](Generator& g) {
            std::random_device rd;
            const uint64_t s = (static_cast<uint64_t>(rd()) << 32) ^ rd();
            g.state = PhiloxState{s, 0};
            return s;
          },
          "Seeds the generator from std::random_device and returns the seed.")
      .def(
          "initial_seed", [](const Generator& g) { return g.state.seed; }, "The seed the generator was seeded with.")
      .def(
          "get_state",
          [](const Generator& g) {
            // (seed, offset) as int64 bit patterns; set_state() reads them back.
            return from_vector<int64_t>({static_cast<int64_t>(g.state.seed), static_cast<int64_t>(g.state.offset)},
                                        {2});
          },
          "The state as an int64 tensor of 2 elements (seed, offset) for set_state().")
      .def(
          "set_state",
          [](py::object self, py::handle state) {
            Tensor t = to_tensor(state, "Generator.set_state", "new_state");
            if (t.dtype() != DType::Int64 || t.dim() != 1 || t.numel() != 2)
              throw py::value_error(
                  "Generator.set_state(): expected the int64 tensor of shape [2] that get_state() "
                  "returns, got " +
                  std::string(dtype_name(t.dtype())) + " of shape " + detail::str(t.sizes()));
            Tensor c = t.cpu().contiguous();
            const auto* v = static_cast<const int64_t*>(c.data_ptr());
            self.cast<Generator&>().state = PhiloxState{static_cast<uint64_t>(v[0]), static_cast<uint64_t>(v[1])};
            return self;
          },
          py::arg("new_state"), "Restores a state from get_state() and returns the generator.")
      .def_property_readonly("device", [](const Generator& g) { return g.device; });
}

}  // namespace loom::python
