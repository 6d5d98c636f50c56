#define BOOST_TEST_MODULE actorkit
#include <boost/test/unit_test.hpp>
