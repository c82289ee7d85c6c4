#define BOOST_TEST_MODULE gcstream emulator tests
#include <boost/test/unit_test.hpp>
