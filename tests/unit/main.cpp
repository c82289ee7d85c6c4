#define BOOST_TEST_MODULE gcstream unit tests
#include <boost/test/unit_test.hpp>
