#define BOOST_TEST_MODULE gcstream integration tests
#include <boost/test/unit_test.hpp>
